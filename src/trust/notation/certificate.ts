/**
 * X.509 certificates as the Notary Project verifier needs them: the facts the certificate
 * requirements of the signature specification talk about (basic constraints, key usage, extended
 * key usage, key type and size, validity, raw names), parsed once per DER and memoized.
 * Spec: notaryproject/specifications specs/signature-specification.md "Certificate Requirements".
 */
import { createHash, type KeyObject, X509Certificate as NodeX509 } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

/** Key usage bit names in RFC 5280 4.2.1.3 order (bit 0 first). */
const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsageBit = (typeof KEY_USAGE_BITS)[number];

/** Short names of the subject attributes a trusted identity may name (RFC 4514 and common extras). */
const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.8': 'ST',
  '2.5.4.7': 'L',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.9': 'STREET',
  '2.5.4.17': 'POSTALCODE',
  '1.2.840.113549.1.9.1': 'E',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

export const OID = {
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  anyExtendedKeyUsage: '2.5.29.37.0',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  crlDistributionPoints: '2.5.29.31',
} as const;

/** One certificate, parsed. Immutable; shared between verifications. */
export interface ParsedCertificate {
  readonly der: Uint8Array;
  /** Lower-case hex SHA-256 of the DER (the `x509chain.thumbprint#S256` value, lower-cased). */
  readonly sha256: string;
  /** Subject in RFC 4514 order (most specific first), e.g. `CN=acme,O=Notary,L=Seattle,ST=WA,C=US`. */
  readonly subject: string;
  readonly issuer: string;
  /** Subject attributes by short name (`CN`, `O`, …); repeated attributes keep every value. */
  readonly subjectAttributes: ReadonlyMap<string, readonly string[]>;
  readonly rawSubjectHex: string;
  readonly rawIssuerHex: string;
  readonly serialNumberHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly signatureAlgorithmOid: string;
  readonly basicConstraints?: { readonly critical: boolean; readonly ca: boolean; readonly pathLen?: number };
  readonly keyUsage?: { readonly critical: boolean; readonly bits: ReadonlySet<KeyUsageBit> };
  readonly extKeyUsage?: { readonly critical: boolean; readonly oids: readonly string[] };
  /** OCSP responder URLs (AIA) and CRL distribution point URLs, for revocation checks. */
  readonly ocspUrls: readonly string[];
  readonly crlUrls: readonly string[];
  readonly publicKey: KeyObject;
  readonly node: NodeX509;
  /** The pkijs form (for CMS and revocation code). */
  readonly pkijs: pkijs.Certificate;
}

/** A certificate that does not parse. */
export class CertificateParseError extends Error {
  override readonly name = 'CertificateParseError';
}

const parsedByHash = new Map<string, ParsedCertificate>();
/**
 * The same DER object seen again (jws.ts hands out one object per recurring x5c entry): found without
 * hashing. Callers must not mutate a DER array after parsing it (none do: they are decoded envelope
 * and store bytes).
 */
const parsedByBytes = new WeakMap<Uint8Array, ParsedCertificate>();
const MAX_MEMO = 1024;

function remember<V>(map: Map<string, V>, key: string, value: V): V {
  if (map.size >= MAX_MEMO) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
  map.set(key, value);
  return value;
}

const toHex = (b: ArrayBuffer | Uint8Array): string =>
  Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');

function formatName(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => `${ATTRIBUTE_NAMES[tv.type] ?? tv.type}=${String(tv.value.valueBlock.value ?? '')}`)
    .reverse()
    .join(',');
}

function urlsFromGeneralNames(names: readonly pkijs.GeneralName[]): string[] {
  return names.filter((n) => n.type === 6 && typeof n.value === 'string').map((n) => n.value as string);
}

/** Parses (or returns the memoized parse of) one DER certificate. Throws CertificateParseError. */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const same = parsedByBytes.get(der);
  if (same && same.der.byteLength === der.byteLength) return same;
  const sha256 = createHash('sha256').update(der).digest('hex');
  const known = parsedByHash.get(sha256);
  if (known) {
    parsedByBytes.set(der, known);
    return known;
  }
  let cert: pkijs.Certificate;
  let node: NodeX509;
  let publicKey: ParsedCertificate['publicKey'];
  try {
    const asn = asn1js.fromBER(der);
    if (asn.offset === -1 || asn.offset !== der.byteLength) throw new Error('not a single DER value');
    cert = new pkijs.Certificate({ schema: asn.result });
    node = new NodeX509(der);
    // The key is decoded lazily: a broken SubjectPublicKeyInfo throws here, not in a caller.
    publicKey = node.publicKey;
  } catch (err) {
    throw new CertificateParseError(
      `not an X.509 certificate: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const subjectAttributes = new Map<string, string[]>();
  for (const tv of cert.subject.typesAndValues) {
    const key = ATTRIBUTE_NAMES[tv.type] ?? tv.type;
    subjectAttributes.set(key, [
      ...(subjectAttributes.get(key) ?? []),
      String(tv.value.valueBlock.value ?? ''),
    ]);
  }
  let basicConstraints: ParsedCertificate['basicConstraints'];
  let keyUsage: ParsedCertificate['keyUsage'];
  let extKeyUsage: ParsedCertificate['extKeyUsage'];
  const ocspUrls: string[] = [];
  const crlUrls: string[] = [];
  for (const ext of cert.extensions ?? []) {
    const critical = ext.critical === true;
    const value: unknown = ext.parsedValue;
    switch (ext.extnID) {
      case OID.basicConstraints:
        if (value instanceof pkijs.BasicConstraints) {
          const pathLen = typeof value.pathLenConstraint === 'number' ? value.pathLenConstraint : undefined;
          basicConstraints = {
            critical,
            ca: value.cA === true,
            ...(pathLen === undefined ? {} : { pathLen }),
          };
        }
        break;
      case OID.keyUsage:
        if (value instanceof asn1js.BitString) {
          const bytes = value.valueBlock.valueHexView;
          const bits = new Set<KeyUsageBit>();
          KEY_USAGE_BITS.forEach((bit, i) => {
            const byte = bytes[i >> 3] ?? 0;
            if (byte & (0x80 >> (i & 7))) bits.add(bit);
          });
          keyUsage = { critical, bits };
        }
        break;
      case OID.extKeyUsage:
        if (value instanceof pkijs.ExtKeyUsage) extKeyUsage = { critical, oids: [...value.keyPurposes] };
        break;
      case OID.authorityInfoAccess:
        if (value instanceof pkijs.InfoAccess) {
          for (const d of value.accessDescriptions) {
            if (d.accessMethod === '1.3.6.1.5.5.7.48.1')
              ocspUrls.push(...urlsFromGeneralNames([d.accessLocation]));
          }
        }
        break;
      case OID.crlDistributionPoints:
        if (value instanceof pkijs.CRLDistributionPoints) {
          for (const p of value.distributionPoints) {
            if (Array.isArray(p.distributionPoint))
              crlUrls.push(...urlsFromGeneralNames(p.distributionPoint));
          }
        }
        break;
      default:
        break;
    }
  }
  const parsed: ParsedCertificate = {
    der,
    sha256,
    subject: formatName(cert.subject),
    issuer: formatName(cert.issuer),
    subjectAttributes,
    rawSubjectHex: toHex(cert.subject.valueBeforeDecode),
    rawIssuerHex: toHex(cert.issuer.valueBeforeDecode),
    serialNumberHex: toHex(cert.serialNumber.valueBlock.valueHexView),
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    signatureAlgorithmOid: cert.signatureAlgorithm.algorithmId,
    ...(basicConstraints ? { basicConstraints } : {}),
    ...(keyUsage ? { keyUsage } : {}),
    ...(extKeyUsage ? { extKeyUsage } : {}),
    ocspUrls,
    crlUrls,
    publicKey,
    node,
    pkijs: cert,
  };
  parsedByBytes.set(der, parsed);
  return remember(parsedByHash, sha256, parsed);
}

const signedBy = new Map<string, boolean>();

/** True when `child`'s signature verifies with `parent`'s key (memoized: it is a pure function of both DERs). */
export function isSignedBy(child: ParsedCertificate, parent: ParsedCertificate): boolean {
  const key = `${child.sha256}:${parent.sha256}`;
  const known = signedBy.get(key);
  if (known !== undefined) return known;
  let ok = false;
  try {
    ok = child.node.verify(parent.publicKey);
  } catch {
    ok = false;
  }
  return remember(signedBy, key, ok);
}

/** RFC 5280 issuance: `parent`'s subject is `child`'s issuer and `parent`'s key signed `child`. */
export function isIssuedBy(child: ParsedCertificate, parent: ParsedCertificate): boolean {
  return child.rawIssuerHex === parent.rawSubjectHex && isSignedBy(child, parent);
}

/** Self-signed: the certificate's signature verifies with its own key (subject = issuer is not enough). */
export function isSelfSigned(cert: ParsedCertificate): boolean {
  return isSignedBy(cert, cert);
}

/** Splits a PEM or DER file into DER certificates (PEM: every CERTIFICATE block; DER: one or more concatenated). */
export function readCertificates(bytes: Uint8Array): Uint8Array[] {
  const text = Buffer.from(bytes).toString('latin1');
  if (text.includes('-----BEGIN')) {
    const out: Uint8Array[] = [];
    const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
    for (const m of text.matchAll(re)) {
      if (m[1] !== 'CERTIFICATE')
        throw new CertificateParseError(`unexpected PEM block "${m[1]}" (want CERTIFICATE)`);
      const body = (m[2] ?? '').replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new CertificateParseError('PEM block is not base64');
      out.push(new Uint8Array(Buffer.from(body, 'base64')));
    }
    if (out.length === 0) throw new CertificateParseError('no CERTIFICATE block in PEM data');
    return out;
  }
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    const rest = bytes.subarray(offset);
    const asn = asn1js.fromBER(rest);
    if (asn.offset === -1) throw new CertificateParseError('neither PEM nor DER certificate data');
    out.push(rest.subarray(0, asn.offset));
    offset += asn.offset;
  }
  if (out.length === 0) throw new CertificateParseError('empty certificate file');
  return out;
}
