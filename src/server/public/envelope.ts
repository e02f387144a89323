/**
 * The published list of a namespace's admitted images and its DSSE envelope (DSSE v1 protocol:
 * the signature covers `PAE(payloadType, payload)`; envelope JSON `{payloadType, payload,
 * signatures[{keyid, sig}]}` with base64 payload and signatures). The server signs with vouch's
 * own key; `vouch verify https://…/v1/applications/NS` checks the envelope with the reader's copy
 * of the public key, then this schema, before it trusts a single field, and even then takes only
 * the image references from it: every image is re-verified under the reader's policy.
 */
import type { KeyObject } from 'node:crypto';
import { dsse } from '@sigstore/core';
import { z } from 'zod';
import { signBytes } from '../../sign/cosign/index.js';
import { type CosignPublicKey, verifyRawSignature } from '../../verifiers/cosign/public-key.js';

/** `payloadType` of a published list. */
export const APPLICATIONS_PAYLOAD_TYPE = 'application/vnd.vouch.applications.v1+json';
/** Media type the envelope is served with. */
export const DSSE_ENVELOPE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';

const signerSchema = z
  .object({
    keyId: z.string().max(200).optional(),
    identity: z.array(z.string().max(2048)).max(16).optional(),
    issuer: z.string().max(2048).optional(),
    subject: z.string().max(2048).optional(),
  })
  .strict();

const detailsSchema = z
  .object({
    identity: z.string().max(2048).optional(),
    issuer: z.string().max(2048).optional(),
    key: z.string().max(63).optional(),
  })
  .strict();

export const publishedImageSchema = z
  .object({
    /** `registry/repository@sha256:…`: what a reader re-verifies. */
    reference: z.string().min(1).max(1024),
    name: z.string().min(1).max(1024),
    digest: z.string().regex(/^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$/),
    container: z.string().max(253),
    /** Name of the pod or workload; only when `includePodNames`. */
    pod: z.string().max(253).optional(),
    /** The verification details the pod named for this container, as enforced. */
    details: detailsSchema.optional(),
    /** The cluster policy rule that decided. */
    rule: z.string().max(256),
    verified: z.boolean(),
    /** The signatures that verified at admission (facts, for people; never a reader's result). */
    signatures: z
      .array(
        z
          .object({
            verifier: z.string().max(64),
            artifact: z.string().max(200),
            signers: z.array(signerSchema).max(16),
          })
          .strict(),
      )
      .max(32),
    /** When the decision was made (ISO 8601). */
    decidedAt: z.string().max(64),
    /** When the image was last admitted (ISO 8601). */
    admittedAt: z.string().max(64),
  })
  .strict();

export type PublishedImage = z.infer<typeof publishedImageSchema>;
export type PublishedSignature = PublishedImage['signatures'][number];
export type VerificationDetails = z.infer<typeof detailsSchema>;

export const applicationsPayloadSchema = z
  .object({
    apiVersion: z.literal('vouch.dev/v1'),
    kind: z.literal('Applications'),
    namespace: z.string().min(1).max(63),
    issuedAt: z.string().max(64),
    /** How long an image stays listed after its last admission, seconds. */
    ttlSeconds: z.number().int().positive(),
    images: z.array(publishedImageSchema).max(10_000),
  })
  .strict();

export type ApplicationsPayload = z.infer<typeof applicationsPayloadSchema>;

const envelopeSchema = z.object({
  payloadType: z.string(),
  payload: z.string(),
  signatures: z
    .array(z.object({ keyid: z.string().optional(), sig: z.string() }))
    .min(1)
    .max(16),
});

export interface DsseEnvelope {
  readonly payloadType: string;
  readonly payload: string;
  readonly signatures: ReadonlyArray<{ readonly keyid: string; readonly sig: string }>;
}

/** Signs `payload` with `key` (keyid: `sha256:` of the public key's SPKI DER). */
export function signApplications(payload: ApplicationsPayload, key: KeyObject, keyId: string): DsseEnvelope {
  const bytes = Buffer.from(JSON.stringify(payload), 'utf8');
  const sig = signBytes(key, dsse.preAuthEncoding(APPLICATIONS_PAYLOAD_TYPE, bytes));
  return {
    payloadType: APPLICATIONS_PAYLOAD_TYPE,
    payload: bytes.toString('base64'),
    signatures: [{ keyid: keyId, sig: sig.toString('base64') }],
  };
}

/** Why an envelope was refused; stable codes. */
export type EnvelopeFailure =
  | 'envelope-malformed'
  | 'envelope-payload-type'
  | 'envelope-signature-invalid'
  | 'envelope-payload-invalid';

export type EnvelopeResult =
  | { readonly ok: true; readonly payload: ApplicationsPayload; readonly keyId: string }
  | { readonly ok: false; readonly reason: EnvelopeFailure; readonly message: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Checks an envelope (the bytes as received) against `keys`: the payload type, one signature by
 * one of the keys over PAE, and only then the payload's schema.
 */
export function verifyApplications(bytes: Uint8Array, keys: readonly CosignPublicKey[]): EnvelopeResult {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return { ok: false, reason: 'envelope-malformed', message: 'the response is not JSON' };
  }
  const env = envelopeSchema.safeParse(raw);
  if (!env.success || !BASE64.test(env.data.payload))
    return { ok: false, reason: 'envelope-malformed', message: 'the response is not a DSSE envelope' };
  if (env.data.payloadType !== APPLICATIONS_PAYLOAD_TYPE) {
    return {
      ok: false,
      reason: 'envelope-payload-type',
      message: `payloadType is "${env.data.payloadType.slice(0, 100)}", not ${APPLICATIONS_PAYLOAD_TYPE}`,
    };
  }
  const payload = Buffer.from(env.data.payload, 'base64');
  const pae = dsse.preAuthEncoding(env.data.payloadType, payload);
  let signedBy: CosignPublicKey | undefined;
  for (const s of env.data.signatures) {
    if (!BASE64.test(s.sig)) continue;
    const sig = Buffer.from(s.sig, 'base64');
    signedBy = keys.find((k) => verifyRawSignature(k, pae, sig));
    if (signedBy) break;
  }
  if (!signedBy) {
    return {
      ok: false,
      reason: 'envelope-signature-invalid',
      message: `no signature on the list verifies with the ${keys.length === 1 ? 'key' : `${keys.length} keys`} given (altered, or signed by another key)`,
    };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'envelope-payload-invalid', message: 'the signed payload is not JSON' };
  }
  const parsed = applicationsPayloadSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: 'envelope-payload-invalid',
      message: `the signed payload is not an applications list: ${issue?.path.join('.') || 'payload'}: ${issue?.message ?? 'invalid'}`,
    };
  }
  return { ok: true, payload: parsed.data, keyId: signedBy.id };
}
