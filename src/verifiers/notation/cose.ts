/**
 * COSE_Sign1_Tagged envelopes (RFC 9052 section 4.2), per specs/signature-envelope-cose.md.
 * Protected labels: 1 alg, 2 crit, 3 content type; Notary Project headers by text name; times are
 * CBOR tag 1 (epoch). Unprotected: 33 x5chain (array of bstr), timestampSignature, signingAgent.
 */
import { Decoder, Tag } from 'cbor-x';
import { algorithmFromCoseLabel } from './algorithms.js';
import {
  EnvelopeError,
  HEADER,
  MAX_CHAIN_LENGTH,
  type ParsedEnvelope,
  readSignedAttributes,
} from './envelope.js';

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });

function decodeCbor(bytes: Uint8Array, what: string): unknown {
  try {
    return decoder.decode(bytes);
  } catch (err) {
    throw new EnvelopeError(
      'malformed',
      `${what} is not valid CBOR: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

function readTime(value: unknown, what: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new EnvelopeError('malformed', `${what} must be a CBOR epoch date/time (tag 1)`);
  }
  return value;
}

const SIGNATURE1 = new TextEncoder().encode('Signature1');

/** Minimal deterministic CBOR head (RFC 8949 section 3). */
function head(major: number, length: number): Uint8Array {
  if (length < 24) return Uint8Array.of((major << 5) | length);
  if (length < 0x100) return Uint8Array.of((major << 5) | 24, length);
  if (length < 0x10000) return Uint8Array.of((major << 5) | 25, length >> 8, length & 0xff);
  return Uint8Array.of(
    (major << 5) | 26,
    (length >>> 24) & 0xff,
    (length >> 16) & 0xff,
    (length >> 8) & 0xff,
    length & 0xff,
  );
}

/** `Sig_structure = ["Signature1", body_protected, external_aad = h'', payload]` encoded (RFC 9052 4.4). */
export function coseSigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  const context = SIGNATURE1;
  return Buffer.concat([
    Uint8Array.of(0x84),
    head(3, context.length),
    context,
    head(2, protectedBytes.length),
    protectedBytes,
    Uint8Array.of(0x40),
    head(2, payload.length),
    payload,
  ]);
}

/** Parses and type-checks a COSE_Sign1_Tagged envelope. Throws EnvelopeError. */
export function parseCoseEnvelope(bytes: Uint8Array): ParsedEnvelope {
  const top = decodeCbor(bytes, 'the envelope');
  if (!(top instanceof Tag) || top.tag !== 18)
    throw new EnvelopeError('malformed', 'the envelope is not a COSE_Sign1_Tagged (CBOR tag 18)');
  const arr: unknown = top.value;
  if (!Array.isArray(arr) || arr.length !== 4)
    throw new EnvelopeError('malformed', 'COSE_Sign1 must be an array of 4 items');
  const [protectedBytes, unprotected, payload, signature] = arr as unknown[];
  if (!isBytes(protectedBytes) || protectedBytes.length === 0)
    throw new EnvelopeError('malformed', 'the protected header must be a non-empty bstr');
  if (!(unprotected instanceof Map))
    throw new EnvelopeError('malformed', 'the unprotected header must be a map');
  if (!isBytes(payload))
    throw new EnvelopeError('malformed', 'the payload must be a bstr (detached payloads are not supported)');
  if (!isBytes(signature)) throw new EnvelopeError('malformed', 'the signature must be a bstr');
  const headers = decodeCbor(protectedBytes, 'the protected header');
  if (!(headers instanceof Map))
    throw new EnvelopeError('malformed', 'the protected header is not a CBOR map');

  const alg = algorithmFromCoseLabel(headers.get(1));
  if (!headers.has(1)) throw new EnvelopeError('malformed', 'the alg header (label 1) is missing');
  if (!alg)
    throw new EnvelopeError('unsupported', `signature algorithm ${String(headers.get(1))} is not supported`);
  const crit: unknown = headers.get(2);
  if (Array.isArray(crit)) {
    const label = crit.find((c) => typeof c !== 'string');
    if (label !== undefined)
      throw new EnvelopeError('unsupported', `critical header label ${String(label)} is not understood`);
  }
  const names: string[] = [];
  for (const key of headers.keys()) {
    if (typeof key === 'string') names.push(key);
    else if (typeof key !== 'number' || key < 1 || key > 8)
      throw new EnvelopeError('malformed', `unexpected protected header label ${String(key)}`);
  }
  const signed = readSignedAttributes(alg, headers.get(3), crit, names, (n) => headers.get(n), readTime);

  const chain: unknown = unprotected.get(33) ?? headers.get(33);
  if (chain === undefined)
    throw new EnvelopeError('malformed', 'certificate chain is not present (x5chain, label 33)');
  const certificateChain = isBytes(chain) ? [chain] : chain;
  if (!Array.isArray(certificateChain) || certificateChain.length === 0 || !certificateChain.every(isBytes)) {
    throw new EnvelopeError('malformed', 'x5chain must be an array of bstr certificates');
  }
  if (certificateChain.length > MAX_CHAIN_LENGTH)
    throw new EnvelopeError('malformed', `x5chain has more than ${MAX_CHAIN_LENGTH} certificates`);
  const ts: unknown = unprotected.get(HEADER.timestampSignature);
  if (ts !== undefined && !isBytes(ts))
    throw new EnvelopeError('malformed', `${HEADER.timestampSignature} must be a bstr`);
  const agent: unknown = unprotected.get(HEADER.signingAgent);
  return {
    format: 'cose',
    signed,
    payload,
    signingInput: coseSigStructure(protectedBytes, payload),
    signature,
    certificateChain: certificateChain as Uint8Array[],
    ...(ts !== undefined ? { timestampToken: ts as Uint8Array } : {}),
    ...(typeof agent === 'string' ? { signingAgent: agent } : {}),
  };
}
