/**
 * JWS JSON serialization (flattened) envelopes, per specs/signature-envelope-jws.md.
 * Parsing is strict: base64url without padding for `protected`, `payload` and `signature`;
 * standard base64 for `x5c` entries and `io.cncf.notary.timestampSignature`.
 */
import { isJwsAlgorithm } from './algorithms.js';
import {
  decodeBase64Std,
  decodeBase64Url,
  EnvelopeError,
  HEADER,
  MAX_CHAIN_LENGTH,
  type ParsedEnvelope,
  parseRfc3339,
  readSignedAttributes,
} from './envelope.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * x5c entries seen recently -> their DER. The same signer's certificates recur in every envelope, so
 * this skips the base64 checks and decoding, and hands core.ts the same DER object each time (whose
 * parse certificate.ts then finds by identity, without hashing it again). Bounded; entries are small.
 */
const derByX5c = new Map<string, Uint8Array>();
const MAX_X5C_MEMO = 256;

function decodeCertificate(b64: string, i: number): Uint8Array {
  const known = derByX5c.get(b64);
  if (known) return known;
  const der = decodeBase64Std(b64, `header.x5c[${i}]`);
  if (derByX5c.size >= MAX_X5C_MEMO) {
    const oldest = derByX5c.keys().next().value;
    if (oldest !== undefined) derByX5c.delete(oldest);
  }
  derByX5c.set(b64, der);
  return der;
}

const TOP_LEVEL = new Set(['payload', 'protected', 'header', 'signature']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and type-checks a JWS envelope. Throws EnvelopeError (`malformed` or `integrity`). */
export function parseJwsEnvelope(bytes: Uint8Array): ParsedEnvelope {
  let doc: unknown;
  try {
    doc = JSON.parse(utf8.decode(bytes));
  } catch (err) {
    throw new EnvelopeError(
      'malformed',
      `the envelope is not JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (!isObject(doc)) throw new EnvelopeError('malformed', 'the envelope is not a JSON object');
  for (const key of Object.keys(doc)) {
    if (!TOP_LEVEL.has(key))
      throw new EnvelopeError(
        'malformed',
        `unexpected top-level member "${key}" (only flattened JWS JSON is supported)`,
      );
  }
  const { payload, protected: protectedB64, header, signature } = doc;
  if (typeof payload !== 'string') throw new EnvelopeError('malformed', 'payload is missing or not a string');
  if (typeof protectedB64 !== 'string')
    throw new EnvelopeError('malformed', 'protected is missing or not a string');
  if (typeof signature !== 'string')
    throw new EnvelopeError('malformed', 'signature is missing or not a string');
  if (header !== undefined && !isObject(header))
    throw new EnvelopeError('malformed', 'header must be an object');
  const unprotected = header ?? {};

  const x5c = unprotected.x5c;
  if (x5c === undefined)
    throw new EnvelopeError('malformed', 'certificate chain is not present (header.x5c)');
  if (!Array.isArray(x5c) || x5c.length === 0 || !x5c.every((c) => typeof c === 'string')) {
    throw new EnvelopeError('malformed', 'header.x5c must be a non-empty array of base64 strings');
  }
  if (x5c.length > MAX_CHAIN_LENGTH)
    throw new EnvelopeError('malformed', `header.x5c has more than ${MAX_CHAIN_LENGTH} certificates`);
  const certificateChain = (x5c as string[]).map((c, i) => decodeCertificate(c, i));
  const tsRaw = unprotected[HEADER.timestampSignature];
  if (tsRaw !== undefined && typeof tsRaw !== 'string')
    throw new EnvelopeError('malformed', `header.${HEADER.timestampSignature} must be a string`);
  const agent = unprotected[HEADER.signingAgent];

  const protectedBytes = decodeBase64Url(protectedB64, 'protected');
  const payloadBytes = decodeBase64Url(payload, 'payload');
  const signatureBytes = decodeBase64Url(signature, 'signature');
  let headers: unknown;
  try {
    headers = JSON.parse(utf8.decode(protectedBytes));
  } catch {
    throw new EnvelopeError('malformed', 'the protected header is not JSON');
  }
  if (!isObject(headers)) throw new EnvelopeError('malformed', 'the protected header is not a JSON object');
  const alg = headers.alg;
  if (typeof alg !== 'string')
    throw new EnvelopeError('malformed', 'the alg header is missing or not a string');
  if (!isJwsAlgorithm(alg))
    throw new EnvelopeError('unsupported', `signature algorithm "${alg}" is not supported`);
  const names = Object.keys(headers);
  const signed = readSignedAttributes(
    alg,
    headers.cty,
    headers.crit,
    names.filter((n) => n !== 'alg' && n !== 'cty' && n !== 'crit'),
    (n) => headers[n],
    parseRfc3339,
  );
  return {
    format: 'jws',
    signed,
    payload: payloadBytes,
    // Both parts were checked to be base64url (ASCII), so latin1 is their exact byte encoding.
    signingInput: Buffer.from(`${protectedB64}.${payload}`, 'latin1'),
    signature: signatureBytes,
    certificateChain,
    ...(tsRaw !== undefined
      ? { timestampToken: decodeBase64Std(tsRaw, `header.${HEADER.timestampSignature}`) }
      : {}),
    ...(typeof agent === 'string' ? { signingAgent: agent } : {}),
  };
}
