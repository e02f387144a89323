/**
 * Certificate checks for keyless (Fulcio) and private-PKI cosign signatures: a path from the
 * leaf to a trusted certificate authority, every certificate valid at the reference time (the
 * Rekor integrated time for short-lived Fulcio leaves), CA flags on issuers, the code-signing
 * extended key usage on the leaf (RFC 5280 §4.2.1.12; cosign requires ExtKeyUsageCodeSigning),
 * and the embedded SCTs (RFC 6962 §3.2) verified against the trusted CT log keys.
 */
import {
  ByteStream,
  EXTENSION_OID_SCT,
  crypto as sigstoreCrypto,
  X509Certificate,
  X509SCTExtension,
} from '@sigstore/core';
import { pemBlocks } from '../../trust/cosign/public-key.js';
import type { CertificateAuthority, LogKey } from '../../trust/cosign/types.js';
import { CosignCheckFailure, malformed } from './failure.js';

const OID_EXT_KEY_USAGE = '2.5.29.37';
const OID_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const OID_ANY_EKU = '2.5.29.37.0';
const MAX_CHAIN_DEPTH = 6;

/** Parses every PEM certificate in `text`; `malformed` when there is none or one is broken. */
export function parseCertificates(text: string, what: string): X509Certificate[] {
  const blocks = pemBlocks(text, 'CERTIFICATE');
  if (blocks.length === 0) malformed(`${what} holds no PEM certificate`);
  return blocks.map((b, i) => {
    try {
      return X509Certificate.parse(b);
    } catch {
      return malformed(`${what}: certificate ${i + 1} does not parse`);
    }
  });
}

/**
 * Finds a path from `leaf` through `intermediates` (untrusted, e.g. from the chain annotation)
 * to a certificate of one authority that is valid at `at`. Returns the path, leaf first.
 */
export function verifyCertificateChain(
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  authorities: readonly CertificateAuthority[],
  at: Date,
): X509Certificate[] {
  if (authorities.length === 0) {
    throw new CosignCheckFailure(
      'untrusted-chain',
      'no certificate authority is trusted for keyless signatures',
    );
  }
  if (leaf.isCA)
    throw new CosignCheckFailure('untrusted-chain', 'the signing certificate is a CA certificate');
  let lastWhy = 'no path from the signing certificate to a trusted certificate authority';
  for (const ca of authorities) {
    if (at < ca.validFor.start || at > ca.validFor.end) {
      lastWhy = `the certificate authority is not valid at ${at.toISOString()}`;
      continue;
    }
    const path = findPath(leaf, [...intermediates, ...ca.certChain], ca.certChain, 0);
    if (!path) continue;
    const issuers = path.slice(1);
    if (!issuers.every((c) => c.isCA)) {
      throw new CosignCheckFailure('untrusted-chain', 'an issuer in the certificate chain is not a CA');
    }
    for (const cert of path) {
      if (!cert.validForDate(at)) {
        throw new CosignCheckFailure(
          'expired',
          `certificate valid ${cert.notBefore.toISOString()}..${cert.notAfter.toISOString()} is not valid at ${at.toISOString()}`,
          {
            notBefore: cert.notBefore.toISOString(),
            notAfter: cert.notAfter.toISOString(),
            at: at.toISOString(),
          },
        );
      }
    }
    return path;
  }
  throw new CosignCheckFailure('untrusted-chain', lastWhy);
}

function findPath(
  cert: X509Certificate,
  pool: readonly X509Certificate[],
  trusted: readonly X509Certificate[],
  depth: number,
): X509Certificate[] | undefined {
  if (trusted.some((t) => t.equals(cert))) return [cert];
  if (depth >= MAX_CHAIN_DEPTH) return undefined;
  for (const candidate of pool) {
    if (candidate.equals(cert) || !candidate.subject.equals(cert.issuer)) continue;
    let signed = false;
    try {
      signed = cert.verify(candidate);
    } catch {
      signed = false;
    }
    if (!signed) continue;
    const rest = findPath(candidate, pool, trusted, depth + 1);
    if (rest) return [cert, ...rest];
  }
  return undefined;
}

/**
 * Requires the code-signing extended key usage on the leaf, with Go crypto/x509 semantics (what
 * cosign runs): a leaf without the EKU extension is valid for any usage; one with it must list
 * code signing or anyExtendedKeyUsage.
 */
export function requireCodeSigning(leaf: X509Certificate): void {
  const ext = leaf.extension(OID_EXT_KEY_USAGE);
  if (!ext) return;
  let oids: string[];
  try {
    const seq = ext.valueObj.subs[0] ?? ext.valueObj;
    oids = seq.subs.map((s) => s.toOID());
  } catch {
    malformed('the signing certificate has an unreadable extended key usage');
  }
  if (!oids.includes(OID_CODE_SIGNING) && !oids.includes(OID_ANY_EKU)) {
    throw new CosignCheckFailure(
      'untrusted-chain',
      'the signing certificate lacks the code-signing key usage',
    );
  }
}

/**
 * Verifies every SCT embedded in `leaf` (issued by `issuer`) against the CT log keys; returns how
 * many verified. An SCT from an unknown log, or one that does not verify, is a failure.
 */
export function verifyEmbeddedScts(
  leaf: X509Certificate,
  issuer: X509Certificate,
  ctLogs: readonly LogKey[],
): number {
  const clone = leaf.clone();
  let ext: X509SCTExtension | undefined;
  for (let i = 0; i < clone.extensions.length; i++) {
    const e = clone.extensions[i];
    if (e?.subs[0]?.toOID() === EXTENSION_OID_SCT) {
      ext = new X509SCTExtension(e);
      clone.extensions.splice(i, 1);
      break;
    }
  }
  if (!ext) return 0;
  let scts: X509SCTExtension['signedCertificateTimestamps'];
  try {
    scts = ext.signedCertificateTimestamps;
  } catch {
    throw new CosignCheckFailure('sct-invalid', 'the certificate SCT extension does not parse');
  }
  // RFC 6962 §3.2: the PreCert entry is issuer_key_hash || TBSCertificate without the SCT list.
  const preCert = new ByteStream();
  preCert.appendView(sigstoreCrypto.digest('sha256', issuer.publicKey));
  const tbs = clone.tbsCertificate.toDER();
  preCert.appendUint24(tbs.length);
  preCert.appendView(tbs);
  for (const sct of scts) {
    const logs = ctLogs.filter(
      (l) => l.logId.equals(sct.logID) && sct.datetime >= l.validFor.start && sct.datetime <= l.validFor.end,
    );
    if (!logs.some((l) => safeVerify(() => sct.verify(preCert.buffer, l.publicKey)))) {
      throw new CosignCheckFailure(
        'sct-invalid',
        `the SCT from log ${sct.logID.toString('hex')} does not verify`,
      );
    }
  }
  return scts.length;
}

function safeVerify(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false;
  }
}
