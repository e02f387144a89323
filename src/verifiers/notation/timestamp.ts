/**
 * RFC 3161 timestamp countersignatures (`io.cncf.notary.timestampSignature`): a TimeStampToken is a
 * CMS SignedData (RFC 5652) whose content is a TSTInfo. Verified per specs/trust-store-trust-policy.md
 * "Validate Authentic Timestamp": imprint over the primitive signature, signed attributes (content
 * type, message digest, ESS signing-certificate(-v2)), the TSA signature, a chain to a root in a `tsa`
 * store valid at the timestamp's time, and the timestamping certificate requirements.
 */
import { constants, createHash, verify } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { isIssuedBy, type ParsedCertificate, parseCertificate } from '../../trust/notation/certificate.js';
import { validateCertificateChain } from './chain.js';

const OIDS = {
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  baselinePolicy: '0.4.0.2023.1.1',
} as const;

const HASHES: Readonly<Record<string, 'sha1' | 'sha256' | 'sha384' | 'sha512'>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const RSA_SIG: Readonly<Record<string, 'sha256' | 'sha384' | 'sha512'>> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};
const ECDSA_SIG: Readonly<Record<string, 'sha256' | 'sha384' | 'sha512'>> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

/** A verified timestamp: the time range it vouches for and the TSA chain it was verified with. */
export interface VerifiedTimestamp {
  readonly genTime: Date;
  readonly lower: Date;
  readonly upper: Date;
  readonly tsaChain: readonly ParsedCertificate[];
}

export class TimestampError extends Error {
  override readonly name = 'TimestampError';
}

const bytesOf = (b: ArrayBuffer | Uint8Array): Uint8Array =>
  b instanceof Uint8Array ? b : new Uint8Array(b);
const equalBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

function attribute(signer: pkijs.SignerInfo, oid: string): unknown[] | undefined {
  return signer.signedAttrs?.attributes.find((a) => a.type === oid)?.values as unknown[] | undefined;
}

/** Parses the token into SignedData + TSTInfo + its encoded content. */
function parseToken(token: Uint8Array): {
  signed: pkijs.SignedData;
  info: pkijs.TSTInfo;
  content: Uint8Array;
} {
  let contentInfo: pkijs.ContentInfo;
  try {
    contentInfo = pkijs.ContentInfo.fromBER(token);
  } catch (err) {
    throw new TimestampError(`failed to parse timestamp countersignature: ${(err as Error).message}`);
  }
  if (contentInfo.contentType !== OIDS.signedData)
    throw new TimestampError(
      `failed to parse timestamp countersignature: content type ${contentInfo.contentType} is not SignedData`,
    );
  let signed: pkijs.SignedData;
  try {
    signed = new pkijs.SignedData({ schema: contentInfo.content });
  } catch (err) {
    throw new TimestampError(`failed to parse timestamp countersignature: ${(err as Error).message}`);
  }
  const eType = signed.encapContentInfo.eContentType;
  if (eType !== OIDS.tstInfo) {
    throw new TimestampError(
      `failed to parse timestamp countersignature: unexpected content type: ${eType}. Expected to be id-ct-TSTInfo (${OIDS.tstInfo})`,
    );
  }
  const eContent = signed.encapContentInfo.eContent;
  // RFC 5652 section 5.2: eContent is an OCTET STRING; anything else is a malformed token.
  if (!(eContent instanceof asn1js.OctetString))
    throw new TimestampError('failed to parse timestamp countersignature: TSTInfo content is missing');
  const content = bytesOf(eContent.getValue());
  let info: pkijs.TSTInfo;
  try {
    info = pkijs.TSTInfo.fromBER(content);
  } catch (err) {
    throw new TimestampError(`failed to parse the timestamp TSTInfo: ${(err as Error).message}`);
  }
  return { signed, info, content };
}

function findSigner(signed: pkijs.SignedData, signer: pkijs.SignerInfo): ParsedCertificate {
  const certs = (signed.certificates ?? []).filter(
    (c): c is pkijs.Certificate => c instanceof pkijs.Certificate,
  );
  const sid: unknown = signer.sid;
  for (const c of certs) {
    if (sid instanceof pkijs.IssuerAndSerialNumber) {
      if (c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber))
        return parseCertificate(bytesOf(c.toSchema().toBER()));
    } else if (sid instanceof asn1js.Constructed || sid instanceof asn1js.Primitive) {
      const ski = (c.extensions ?? []).find((e) => e.extnID === '2.5.29.14')?.parsedValue;
      const want = sid instanceof asn1js.Primitive ? sid.valueBlock.valueHexView : undefined;
      if (ski instanceof asn1js.OctetString && want && equalBytes(ski.valueBlock.valueHexView, want)) {
        return parseCertificate(bytesOf(c.toSchema().toBER()));
      }
    }
  }
  throw new TimestampError(
    'failed to verify the timestamp countersignature: the signing certificate of the timestamp is not in the token',
  );
}

function checkSigningCertificateAttribute(signer: pkijs.SignerInfo, cert: ParsedCertificate): void {
  const v2 = attribute(signer, OIDS.signingCertificateV2)?.[0];
  const v1 = attribute(signer, OIDS.signingCertificate)?.[0];
  const value = v2 ?? v1;
  if (!(value instanceof asn1js.Sequence))
    throw new TimestampError('the timestamp has no signing-certificate-v2 attribute');
  const certs = value.valueBlock.value[0];
  const first = certs instanceof asn1js.Sequence ? certs.valueBlock.value[0] : undefined;
  if (!(first instanceof asn1js.Sequence))
    throw new TimestampError('the timestamp signing-certificate attribute is malformed');
  let hash: string = v2 ? 'sha256' : 'sha1';
  let items = first.valueBlock.value;
  if (v2 && items[0] instanceof asn1js.Sequence) {
    const alg = new pkijs.AlgorithmIdentifier({ schema: items[0] });
    hash = HASHES[alg.algorithmId] ?? '';
    items = items.slice(1);
  }
  const certHash = items[0];
  if (!hash || !(certHash instanceof asn1js.OctetString))
    throw new TimestampError('the timestamp signing-certificate attribute is malformed');
  if (!equalBytes(createHash(hash).update(cert.der).digest(), certHash.valueBlock.valueHexView)) {
    throw new TimestampError(
      'the timestamp signing-certificate attribute does not match the TSA certificate',
    );
  }
}

function verifyCmsSignature(signer: pkijs.SignerInfo, cert: ParsedCertificate): boolean {
  const attrs = signer.signedAttrs;
  if (!attrs) return false;
  const data = Buffer.from(attrs.encodedValue);
  data[0] = 0x31; // RFC 5652 5.4: the DER of SET OF, not the [0] IMPLICIT tag
  const sig = signer.signature.valueBlock.valueHexView;
  const algOid = signer.signatureAlgorithm.algorithmId;
  const digest = HASHES[signer.digestAlgorithm.algorithmId];
  try {
    if (RSA_SIG[algOid]) return verify(RSA_SIG[algOid], data, cert.publicKey, sig);
    if (algOid === '1.2.840.113549.1.1.1' && digest && digest !== 'sha1')
      return verify(digest, data, cert.publicKey, sig);
    if (algOid === '1.2.840.113549.1.1.10' && digest && digest !== 'sha1') {
      return verify(
        digest,
        data,
        {
          key: cert.publicKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_AUTO,
        },
        sig,
      );
    }
    const ecHash =
      ECDSA_SIG[algOid] ?? (algOid === '1.2.840.10045.2.1' && digest !== 'sha1' ? digest : undefined);
    if (ecHash) return verify(ecHash, data, { key: cert.publicKey, dsaEncoding: 'der' }, sig);
  } catch {
    return false;
  }
  return false;
}

/** Builds signer -> ... -> trusted root from the token's certificates and the `tsa` store, valid at `at`. */
function buildTsaChain(
  leaf: ParsedCertificate,
  pool: readonly ParsedCertificate[],
  roots: readonly ParsedCertificate[],
  at: Date,
): ParsedCertificate[] {
  const chain = [leaf];
  const rootHashes = new Set(roots.map((r) => r.sha256));
  for (let depth = 0; depth < 8; depth++) {
    const current = chain[chain.length - 1] as ParsedCertificate;
    if (rootHashes.has(current.sha256)) return checkValidity(chain, at);
    const trustedIssuer = roots.find((r) => isIssuedBy(current, r));
    if (trustedIssuer) return checkValidity([...chain, trustedIssuer], at);
    const next = pool.find(
      (c) => c.sha256 !== current.sha256 && !chain.includes(c) && isIssuedBy(current, c),
    );
    if (!next) break;
    chain.push(next);
  }
  throw new TimestampError(
    'failed to verify the timestamp countersignature: x509: certificate signed by unknown authority (the TSA does not chain to a certificate of the tsa trust store)',
  );
}

function checkValidity(chain: ParsedCertificate[], at: Date): ParsedCertificate[] {
  for (const c of chain) {
    if (at < c.notBefore || at > c.notAfter) {
      throw new TimestampError(
        `failed to verify the timestamp countersignature: TSA certificate "${c.subject}" is not valid at the timestamp time ${at.toISOString()}`,
      );
    }
  }
  return chain;
}

/**
 * Verifies `token` as a countersignature over `signature` against `tsaRoots`. Throws TimestampError with a
 * message that says which step failed.
 */
export function verifyTimestampToken(
  token: Uint8Array,
  signature: Uint8Array,
  tsaRoots: readonly ParsedCertificate[],
): VerifiedTimestamp {
  const { signed, info, content } = parseToken(token);
  const hash = HASHES[info.messageImprint.hashAlgorithm.algorithmId];
  if (!hash || hash === 'sha1')
    throw new TimestampError(
      `invalid TSTInfo: unsupported message imprint hash ${info.messageImprint.hashAlgorithm.algorithmId}`,
    );
  if (
    !equalBytes(
      createHash(hash).update(signature).digest(),
      info.messageImprint.hashedMessage.valueBlock.valueHexView,
    )
  ) {
    throw new TimestampError(
      'failed to get timestamp from timestamp countersignature: invalid TSTInfo: mismatched message',
    );
  }
  if (signed.signerInfos.length !== 1) throw new TimestampError('the timestamp must have exactly one signer');
  const signer = signed.signerInfos[0] as pkijs.SignerInfo;
  const cert = findSigner(signed, signer);
  const ct = attribute(signer, OIDS.contentType)?.[0];
  if (!(ct instanceof asn1js.ObjectIdentifier) || ct.valueBlock.toString() !== OIDS.tstInfo) {
    throw new TimestampError('the timestamp content-type attribute is missing or is not id-ct-TSTInfo');
  }
  const md = attribute(signer, OIDS.messageDigest)?.[0];
  const digest = HASHES[signer.digestAlgorithm.algorithmId];
  if (!digest || digest === 'sha1')
    throw new TimestampError(`unsupported timestamp digest algorithm ${signer.digestAlgorithm.algorithmId}`);
  if (
    !(md instanceof asn1js.OctetString) ||
    !equalBytes(md.valueBlock.valueHexView, createHash(digest).update(content).digest())
  ) {
    throw new TimestampError(
      'failed to verify the timestamp countersignature: the message-digest attribute does not match the TSTInfo',
    );
  }
  checkSigningCertificateAttribute(signer, cert);
  if (!verifyCmsSignature(signer, cert))
    throw new TimestampError('failed to verify the timestamp countersignature: the TSA signature is invalid');

  const genTime = info.genTime;
  const embedded = (signed.certificates ?? [])
    .filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate)
    .map((c) => parseCertificate(bytesOf(c.toSchema().toBER())));
  const tsaChain = buildTsaChain(cert, embedded, tsaRoots, genTime);
  const problem = validateCertificateChain(tsaChain, 'timeStamping');
  if (problem) throw new TimestampError(`failed to validate the timestamping certificate chain: ${problem}`);

  let accuracyMs = 0;
  if (info.accuracy) {
    accuracyMs =
      (info.accuracy.seconds ?? 0) * 1000 + (info.accuracy.millis ?? 0) + (info.accuracy.micros ?? 0) / 1000;
  } else if (info.policy === OIDS.baselinePolicy) {
    accuracyMs = 1000;
  }
  return {
    genTime,
    lower: new Date(genTime.getTime() - accuracyMs),
    upper: new Date(genTime.getTime() + accuracyMs),
    tsaChain,
  };
}
