/**
 * Builds Notary Project signature envelopes (JWS JSON serialization or COSE_Sign1_Tagged) with the
 * `notary.x509` signing scheme: specs/signature-envelope-jws.md and specs/signature-envelope-cose.md.
 * Pure: the caller supplies the key, chain and time; the timestamp (if any) is added by a callback.
 */

import type { KeyObject } from 'node:crypto';
import { Encoder, Tag } from 'cbor-x';
import type { Descriptor } from '../../registry/types.js';
import { COSE_ALG, createSignature, type SignatureAlgorithm } from '../../verifiers/notation/algorithms.js';
import { coseSigStructure } from '../../verifiers/notation/cose.js';
import { HEADER, PAYLOAD_CONTENT_TYPE } from '../../verifiers/notation/envelope.js';

export interface EnvelopeInput {
  readonly subject: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>;
  readonly alg: SignatureAlgorithm;
  readonly key: KeyObject;
  /** DER certificates, leaf first. */
  readonly chain: readonly Uint8Array[];
  readonly signingTime: Date;
  readonly expiry?: Date;
  readonly signingAgent: string;
  /** Returns an RFC 3161 token over the raw signature bytes, when timestamping. */
  readonly timestamp?: (signature: Uint8Array) => Promise<Uint8Array>;
}

/** The signed payload (specs/signature-specification.md "Payload"). */
export function buildPayload(subject: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      targetArtifact: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    }),
  );
}

/** RFC 3339 without fractional seconds, as the spec recommends. */
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A JWS envelope (flattened JSON serialization). */
export async function buildJwsEnvelope(input: EnvelopeInput): Promise<Uint8Array> {
  const critical = [HEADER.signingScheme, ...(input.expiry ? [HEADER.expiry] : [])];
  const protectedHeader = {
    alg: input.alg,
    cty: PAYLOAD_CONTENT_TYPE,
    crit: critical,
    [HEADER.signingScheme]: 'notary.x509',
    [HEADER.signingTime]: rfc3339(input.signingTime),
    ...(input.expiry ? { [HEADER.expiry]: rfc3339(input.expiry) } : {}),
  };
  const protectedB64 = Buffer.from(JSON.stringify(protectedHeader)).toString('base64url');
  const payloadB64 = Buffer.from(buildPayload(input.subject)).toString('base64url');
  const signature = createSignature(
    input.alg,
    input.key,
    new TextEncoder().encode(`${protectedB64}.${payloadB64}`),
  );
  const header: Record<string, unknown> = {
    x5c: input.chain.map((der) => Buffer.from(der).toString('base64')),
    [HEADER.signingAgent]: input.signingAgent,
  };
  if (input.timestamp)
    header[HEADER.timestampSignature] = Buffer.from(await input.timestamp(signature)).toString('base64');
  const envelope = {
    payload: payloadB64,
    protected: protectedB64,
    header,
    signature: Buffer.from(signature).toString('base64url'),
  };
  return new TextEncoder().encode(JSON.stringify(envelope));
}

const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false });

/** A COSE_Sign1_Tagged envelope. */
export async function buildCoseEnvelope(input: EnvelopeInput): Promise<Uint8Array> {
  const critical = [HEADER.signingScheme, ...(input.expiry ? [HEADER.expiry] : [])];
  const epoch = (d: Date) => new Tag(Math.floor(d.getTime() / 1000), 1);
  const protectedMap = new Map<number | string, unknown>([
    [1, COSE_ALG[input.alg]],
    [2, critical],
    [3, PAYLOAD_CONTENT_TYPE],
    [HEADER.signingScheme, 'notary.x509'],
    [HEADER.signingTime, epoch(input.signingTime)],
  ]);
  if (input.expiry) protectedMap.set(HEADER.expiry, epoch(input.expiry));
  const protectedBytes = new Uint8Array(encoder.encode(protectedMap));
  const payload = buildPayload(input.subject);
  const signature = createSignature(input.alg, input.key, coseSigStructure(protectedBytes, payload));
  const unprotected = new Map<number | string, unknown>([
    [33, input.chain.map((der) => Buffer.from(der))],
    [HEADER.signingAgent, input.signingAgent],
  ]);
  if (input.timestamp)
    unprotected.set(HEADER.timestampSignature, Buffer.from(await input.timestamp(signature)));
  return new Uint8Array(
    encoder.encode(
      new Tag([Buffer.from(protectedBytes), unprotected, Buffer.from(payload), Buffer.from(signature)], 18),
    ),
  );
}
