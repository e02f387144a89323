/**
 * Certificate chain rules of specs/signature-specification.md "Certificate Requirements", for
 * code signing chains (the envelope's x5c/x5chain) and timestamping chains (the TSA's), following
 * notation-core-go x509 ValidateCodeSigningCertChain / ValidateTimestampingCertChain.
 * Validity periods are checked elsewhere, at the time the signing scheme says.
 */
import { isIssuedBy, isSelfSigned, OID, type ParsedCertificate } from '../../trust/notation/certificate.js';
import { algorithmForCertificate } from './algorithms.js';

type Purpose = 'codeSigning' | 'timeStamping';

const SHA1_SIGNATURES = new Set(['1.2.840.113549.1.1.5', '1.2.840.10045.4.1', '1.2.840.10040.4.3']);
const FORBIDDEN_CODE_SIGNING_EKU: Readonly<Record<string, string>> = {
  [OID.serverAuth]: 'ServerAuth',
  [OID.clientAuth]: 'ClientAuth',
  [OID.emailProtection]: 'EmailProtection',
  [OID.timeStamping]: 'Timestamping',
  [OID.ocspSigning]: 'OCSPSigning',
  [OID.anyExtendedKeyUsage]: 'Any',
};
const FORBIDDEN_LEAF_KEY_USAGE = [
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

function checkLeaf(cert: ParsedCertificate, purpose: Purpose): string | undefined {
  const s = `certificate with subject "${cert.subject}"`;
  if (cert.basicConstraints?.ca)
    return `${s}: if the basic constraints extension is present, the ca field must be set to false`;
  if (!cert.keyUsage) return `${s}: key usage extension must be present`;
  if (purpose === 'codeSigning' && !cert.keyUsage.critical)
    return `${s}: key usage extension must be marked critical`;
  if (!cert.keyUsage.bits.has('digitalSignature'))
    return `${s}: the key usage must have the bit positions for "Digital Signature" set`;
  const extra = FORBIDDEN_LEAF_KEY_USAGE.filter((b) => cert.keyUsage?.bits.has(b));
  if (extra.length > 0)
    return `${s}: the key usage must be "Digital Signature" only, but found ${extra.join(', ')}`;
  if (purpose === 'codeSigning') {
    for (const oid of cert.extKeyUsage?.oids ?? []) {
      const name = FORBIDDEN_CODE_SIGNING_EKU[oid];
      if (name) return `${s}: extended key usage must not contain ${name} eku`;
    }
  } else {
    const eku = cert.extKeyUsage;
    if (!eku || eku.oids.length !== 1 || eku.oids[0] !== OID.timeStamping)
      return `timestamp signing ${s} must have and only have Timestamping as extended key usage`;
    if (!eku.critical)
      return `timestamp signing ${s} must have extended key usage extension marked as critical`;
  }
  const alg = algorithmForCertificate(cert);
  if (typeof alg !== 'string') return alg.error;
  return undefined;
}

function checkCa(cert: ParsedCertificate, purpose: Purpose, pathLenBelow: number): string | undefined {
  const s = `certificate with subject "${cert.subject}"`;
  const bc = cert.basicConstraints;
  if (!bc?.ca) return `${s}: ca field in basic constraints must be present, critical, and set to true`;
  if (purpose === 'codeSigning' && !bc.critical)
    return `${s}: basic constraints extension must be marked critical`;
  if (bc.pathLen !== undefined && bc.pathLen < pathLenBelow) {
    return `${s}: expected path length of ${pathLenBelow} but certificate has path length ${bc.pathLen} instead`;
  }
  if (!cert.keyUsage) return `${s}: key usage extension must be present`;
  if (purpose === 'codeSigning' && !cert.keyUsage.critical)
    return `${s}: key usage extension must be marked critical`;
  if (!cert.keyUsage.bits.has('keyCertSign'))
    return `${s}: key usage must have the bit positions for key cert sign set`;
  return undefined;
}

/**
 * Validates an ordered chain (leaf first, ending in a self-signed root; or one self-signed leaf).
 * Returns an error sentence, or undefined when the chain follows the rules.
 */
export function validateCertificateChain(
  chain: readonly ParsedCertificate[],
  purpose: Purpose,
): string | undefined {
  const leaf = chain[0];
  if (!leaf) return 'certificate chain must contain at least one certificate';
  for (const cert of chain) {
    if (SHA1_SIGNATURES.has(cert.signatureAlgorithmOid))
      return `certificate with subject "${cert.subject}" uses a SHA-1 signature, which is not allowed`;
  }
  if (chain.length === 1) {
    if (!isSelfSigned(leaf))
      return `invalid self-signed certificate with subject "${leaf.subject}": its signature does not verify with its own key`;
    if (leaf.rawIssuerHex !== leaf.rawSubjectHex)
      return `invalid self-signed certificate with subject "${leaf.subject}": issuer and subject are not the same`;
    const problem = checkLeaf(leaf, purpose);
    return problem === undefined ? undefined : `invalid self-signed certificate: ${problem}`;
  }
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i] as ParsedCertificate;
    if (i === chain.length - 1) {
      if (!isSelfSigned(cert) || cert.rawIssuerHex !== cert.rawSubjectHex) {
        return `root certificate with subject "${cert.subject}" is not self-signed. Certificate chain must end with a valid self-signed root certificate`;
      }
    } else {
      if (isSelfSigned(cert)) {
        return `${i === 0 ? 'leaf' : 'intermediate'} certificate with subject "${cert.subject}" is self-signed. Certificate chain must not contain self-signed ${i === 0 ? 'leaf' : 'intermediate'} certificate`;
      }
      const parent = chain[i + 1] as ParsedCertificate;
      if (!isIssuedBy(cert, parent))
        return `certificate with subject "${cert.subject}" is not issued by "${parent.subject}"`;
    }
    const problem = i === 0 ? checkLeaf(cert, purpose) : checkCa(cert, purpose, i - 1);
    if (problem) return problem;
  }
  return undefined;
}
