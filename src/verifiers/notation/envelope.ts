/**
 * A Notary Project signature envelope after parsing, independent of JWS or COSE.
 * Spec: specs/signature-specification.md "Signature Envelope" (payload m, signed attributes v,
 * unsigned attributes u, signature s).
 */
import type { SignatureAlgorithm } from './algorithms.js';

export const JWS_MEDIA_TYPE = 'application/jose+json';
export const COSE_MEDIA_TYPE = 'application/cose';
export const PAYLOAD_CONTENT_TYPE = 'application/vnd.cncf.notary.payload.v1+json';
export const SIGNATURE_ARTIFACT_TYPE = 'application/vnd.cncf.notary.signature';
export const THUMBPRINT_ANNOTATION = 'io.cncf.notary.x509chain.thumbprint#S256';
/** Largest envelope accepted (notation-go reads at most 4 MiB; real envelopes are a few KiB). */
export const MAX_ENVELOPE_BYTES = 256 * 1024;
/** Longest certificate chain accepted in an envelope. */
export const MAX_CHAIN_LENGTH = 10;

export const HEADER = {
  signingScheme: 'io.cncf.notary.signingScheme',
  signingTime: 'io.cncf.notary.signingTime',
  authenticSigningTime: 'io.cncf.notary.authenticSigningTime',
  expiry: 'io.cncf.notary.expiry',
  verificationPlugin: 'io.cncf.notary.verificationPlugin',
  verificationPluginMinVersion: 'io.cncf.notary.verificationPluginMinVersion',
  timestampSignature: 'io.cncf.notary.timestampSignature',
  signingAgent: 'io.cncf.notary.signingAgent',
} as const;

const NOTARY_HEADERS: ReadonlySet<string> = new Set<string>(Object.values(HEADER));

export type SigningScheme = 'notary.x509' | 'notary.x509.signingAuthority';

/** The signed attributes every format carries, already type-checked. */
export interface SignedAttributes {
  readonly alg: SignatureAlgorithm;
  readonly contentType: string;
  /** Names listed in `crit` (excluding registered ones). */
  readonly critical: readonly string[];
  readonly signingScheme: SigningScheme;
  readonly signingTime?: Date;
  readonly authenticSigningTime?: Date;
  readonly expiry?: Date;
  readonly verificationPlugin?: string;
  /** Names of protected headers that are neither registered nor Notary Project headers. */
  readonly extended: readonly string[];
}

export interface ParsedEnvelope {
  readonly format: 'jws' | 'cose';
  readonly signed: SignedAttributes;
  /** The exact payload bytes that were signed. */
  readonly payload: Uint8Array;
  /** The bytes the primitive signature is over (JWS signing input / COSE Sig_structure). */
  readonly signingInput: Uint8Array;
  readonly signature: Uint8Array;
  /** DER certificates, leaf first. */
  readonly certificateChain: readonly Uint8Array[];
  readonly timestampToken?: Uint8Array;
  readonly signingAgent?: string;
}

/** Why an envelope could not be used: `malformed` (structure) or `integrity` (encoding of signed data). */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  constructor(
    readonly kind: 'malformed' | 'integrity' | 'unsupported',
    message: string,
  ) {
    super(message);
  }
}

/** Strict RFC 4648 section 5 base64url without padding (RFC 7515 section 2). */
export function decodeBase64Url(value: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(value) || value.length % 4 === 1) {
    throw new EnvelopeError('integrity', `${what} is not base64url without padding`);
  }
  const bytes = Buffer.from(value, 'base64url');
  // RFC 4648 section 3.5: the unused bits of the last character must be zero. Otherwise many
  // texts decode to one signature, and an edited envelope would still verify.
  if (bytes.toString('base64url') !== value)
    throw new EnvelopeError('integrity', `${what} is not canonical base64url (non-zero trailing bits)`);
  return bytes;
}

/** Strict RFC 4648 section 4 base64 with padding (x5c and the timestamp header use it). */
export function decodeBase64Std(value: string, what: string): Uint8Array {
  if (value.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new EnvelopeError('malformed', `${what} is not standard base64`);
  }
  return Buffer.from(value, 'base64');
}

/** RFC 3339 date-time (as the JWS envelope requires for its time headers). */
export function parseRfc3339(value: unknown, what: string): Date {
  if (
    typeof value !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(value) ||
    Number.isNaN(Date.parse(value))
  ) {
    throw new EnvelopeError('malformed', `${what} must be an RFC 3339 date-time string`);
  }
  return new Date(value);
}

const REGISTERED_JWS = new Set([
  'alg',
  'cty',
  'crit',
  'typ',
  'kid',
  'jku',
  'jwk',
  'x5u',
  'x5c',
  'x5t',
  'x5t#S256',
  'b64',
]);

/**
 * Checks the Notary Project rules on signed attributes common to both formats
 * (signature-specification.md "Signed Attributes"; signature-envelope-jws.md "Protected Headers").
 * `get` reads a header by name; `registered` are the format's registered header names.
 */
export function readSignedAttributes(
  alg: SignatureAlgorithm,
  contentType: unknown,
  crit: unknown,
  names: readonly string[],
  get: (name: string) => unknown,
  readTime: (value: unknown, what: string) => Date,
): SignedAttributes {
  if (typeof contentType !== 'string')
    throw new EnvelopeError('malformed', 'the content type header is missing or not a string');
  if (!Array.isArray(crit) || crit.length === 0 || !crit.every((c) => typeof c === 'string')) {
    throw new EnvelopeError('malformed', 'the crit header must be a non-empty array of header names');
  }
  const critical = crit as string[];
  for (const name of critical) {
    if (REGISTERED_JWS.has(name))
      throw new EnvelopeError('malformed', `crit must not list the registered header "${name}"`);
    if (!names.includes(name))
      throw new EnvelopeError('malformed', `crit lists "${name}", which is not a protected header`);
  }
  if (!critical.includes(HEADER.signingScheme))
    throw new EnvelopeError('malformed', `crit must list ${HEADER.signingScheme}`);
  const scheme = get(HEADER.signingScheme);
  if (scheme !== 'notary.x509' && scheme !== 'notary.x509.signingAuthority') {
    throw new EnvelopeError(
      'malformed',
      `${HEADER.signingScheme} must be notary.x509 or notary.x509.signingAuthority`,
    );
  }
  const has = (n: string) => names.includes(n);
  let signingTime: Date | undefined;
  let authenticSigningTime: Date | undefined;
  if (scheme === 'notary.x509') {
    if (!has(HEADER.signingTime))
      throw new EnvelopeError('malformed', `${HEADER.signingTime} is required under notary.x509`);
    signingTime = readTime(get(HEADER.signingTime), HEADER.signingTime);
    if (has(HEADER.authenticSigningTime)) {
      throw new EnvelopeError(
        'malformed',
        `${HEADER.authenticSigningTime} is only valid under notary.x509.signingAuthority`,
      );
    }
  } else {
    if (!has(HEADER.authenticSigningTime)) {
      throw new EnvelopeError(
        'malformed',
        `${HEADER.authenticSigningTime} is required under notary.x509.signingAuthority`,
      );
    }
    if (!critical.includes(HEADER.authenticSigningTime))
      throw new EnvelopeError('malformed', `crit must list ${HEADER.authenticSigningTime}`);
    authenticSigningTime = readTime(get(HEADER.authenticSigningTime), HEADER.authenticSigningTime);
  }
  let expiry: Date | undefined;
  if (has(HEADER.expiry)) {
    if (!critical.includes(HEADER.expiry))
      throw new EnvelopeError('malformed', `crit must list ${HEADER.expiry}`);
    expiry = readTime(get(HEADER.expiry), HEADER.expiry);
  }
  let verificationPlugin: string | undefined;
  if (has(HEADER.verificationPlugin)) {
    const v = get(HEADER.verificationPlugin);
    if (typeof v !== 'string')
      throw new EnvelopeError('malformed', `${HEADER.verificationPlugin} must be a string`);
    verificationPlugin = v;
  }
  const extended = names.filter((n) => !NOTARY_HEADERS.has(n));
  return {
    alg,
    contentType,
    critical,
    signingScheme: scheme,
    ...(signingTime ? { signingTime } : {}),
    ...(authenticSigningTime ? { authenticSigningTime } : {}),
    ...(expiry ? { expiry } : {}),
    ...(verificationPlugin !== undefined ? { verificationPlugin } : {}),
    extended,
  };
}
