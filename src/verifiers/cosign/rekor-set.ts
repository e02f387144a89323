/**
 * The Rekor signed entry timestamp (SET) cosign stores in the `dev.sigstore.cosign/bundle`
 * annotation: `{"SignedEntryTimestamp": b64, "Payload": {body, integratedTime, logIndex, logID}}`.
 *
 * Verification (rekor `pkg/verify` VerifySignedEntryTimestamp; cosign `VerifyBundle`):
 *  1. RFC 8785 canonical JSON of `Payload` (so `logID` sorts before `logIndex`), body kept as base64;
 *  2. ECDSA/Ed25519 signature check with the Rekor key whose sha256(SPKI DER) hex equals `logID`,
 *     valid at the integrated time;
 *  3. the decoded body must describe this signature: hashedrekord 0.0.1 data hash = sha256(payload),
 *     signature content = the signature, publicKey = the certificate or key (compared as DER).
 */
import { createHash, verify } from 'node:crypto';
import { json, X509Certificate } from '@sigstore/core';
import { z } from 'zod';
import type { LogKey } from '../../trust/cosign/types.js';
import { CosignCheckFailure, decodeBase64Strict } from './failure.js';
import { type CosignPublicKey, parsePublicKey, pemBlocks } from './public-key.js';

const setSchema = z.object({
  SignedEntryTimestamp: z.string().min(1),
  Payload: z.object({
    body: z.string().min(1),
    integratedTime: z.number().int().nonnegative(),
    logIndex: z.number().int().nonnegative(),
    logID: z.string().regex(/^[0-9a-f]{64}$/),
  }),
});

/** What a verified SET proves. */
export interface VerifiedLogEntry {
  readonly logIndex: number;
  readonly logId: string;
  readonly integratedTime: Date;
  /** The decoded, JSON-parsed entry body. */
  readonly body: Record<string, unknown>;
}

/** What the log entry must describe. */
export interface LoggedSignature {
  /** The exact signed bytes (simple-signing payload, or the DSSE payload for attestations). */
  readonly payload: Uint8Array;
  /** The signature as it appears base64-encoded in the annotation / envelope. */
  readonly signatureBase64: string;
  /** The signer: a certificate (DER) or a public key. */
  readonly signer: { readonly certificateDer: Buffer } | { readonly key: CosignPublicKey };
}

/** Parses and verifies a `dev.sigstore.cosign/bundle` value; throws tlog-invalid / malformed. */
export function verifyRekorSet(
  annotation: string,
  rekorKeys: readonly LogKey[],
  entry: LoggedSignature,
): VerifiedLogEntry {
  let parsed: z.infer<typeof setSchema>;
  try {
    parsed = setSchema.parse(JSON.parse(annotation));
  } catch {
    throw new CosignCheckFailure('tlog-invalid', 'the Rekor bundle annotation is not a valid SET');
  }
  const { Payload: p } = parsed;
  const integratedTime = new Date(p.integratedTime * 1000);
  const canonical = Buffer.from(
    json.canonicalize({
      body: p.body,
      integratedTime: p.integratedTime,
      logID: p.logID,
      logIndex: p.logIndex,
    }),
    'utf8',
  );
  const set = decodeBase64Strict(parsed.SignedEntryTimestamp, 'SignedEntryTimestamp');
  const keys = rekorKeys.filter(
    (k) =>
      k.logId.toString('hex') === p.logID &&
      integratedTime >= k.validFor.start &&
      integratedTime <= k.validFor.end,
  );
  if (keys.length === 0) {
    throw new CosignCheckFailure(
      'tlog-invalid',
      `no trusted Rekor key has log ID ${p.logID.slice(0, 16)}… at that time`,
    );
  }
  const ok = keys.some((k) => {
    try {
      return verify(
        k.publicKey.asymmetricKeyType === 'ed25519' ? null : 'sha256',
        canonical,
        k.publicKey,
        set,
      );
    } catch {
      return false;
    }
  });
  if (!ok) throw new CosignCheckFailure('tlog-invalid', 'the Rekor SET signature does not verify');
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(decodeBase64Strict(p.body, 'Rekor body').toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof CosignCheckFailure) throw err;
    throw new CosignCheckFailure('tlog-invalid', 'the Rekor entry body is not JSON');
  }
  matchBody(body, entry);
  return { logIndex: p.logIndex, logId: p.logID, integratedTime, body };
}

const hashedRekordSchema = z.object({
  apiVersion: z.literal('0.0.1'),
  kind: z.literal('hashedrekord'),
  spec: z.object({
    data: z.object({ hash: z.object({ algorithm: z.literal('sha256'), value: z.string() }) }),
    signature: z.object({ content: z.string(), publicKey: z.object({ content: z.string() }) }),
  }),
});

const intotoOrDsseSchema = z.object({
  kind: z.enum(['intoto', 'dsse']),
  apiVersion: z.string(),
  spec: z.record(z.string(), z.unknown()),
});

/** Checks that the log entry body names this payload, signature and signer. */
function matchBody(body: Record<string, unknown>, entry: LoggedSignature): void {
  const payloadHash = createHash('sha256').update(entry.payload).digest('hex');
  const hashed = hashedRekordSchema.safeParse(body);
  if (hashed.success) {
    const spec = hashed.data.spec;
    if (spec.data.hash.value !== payloadHash) fail('its payload hash differs from the signed payload');
    if (spec.signature.content.replace(/\s+/g, '') !== entry.signatureBase64.replace(/\s+/g, '')) {
      fail('its signature differs from this signature');
    }
    matchSigner(Buffer.from(spec.signature.publicKey.content, 'base64').toString('utf8'), entry);
    return;
  }
  const other = intotoOrDsseSchema.safeParse(body);
  if (other.success) {
    // intoto 0.0.2 and dsse 0.0.1 record the payload hash and the verifier keys/certificates.
    const text = JSON.stringify(other.data.spec);
    if (!text.includes(payloadHash)) fail('its payload hash differs from the signed payload');
    const verifiers = [...text.matchAll(/"(?:verifier|publicKey)":"([A-Za-z0-9+/=]+)"/g)].map((m) =>
      Buffer.from(m[1] ?? '', 'base64').toString('utf8'),
    );
    if (!verifiers.some((v) => signerMatches(v, entry))) fail('it names another signer');
    return;
  }
  fail('its kind is not hashedrekord 0.0.1, intoto or dsse');
}

function matchSigner(pem: string, entry: LoggedSignature): void {
  if (!signerMatches(pem, entry)) fail('it names another certificate or key');
}

function signerMatches(pem: string, entry: LoggedSignature): boolean {
  try {
    if ('certificateDer' in entry.signer) {
      const cert = pemBlocks(pem, 'CERTIFICATE')[0];
      return (
        cert !== undefined && X509Certificate.parse(cert).root.toDER().equals(entry.signer.certificateDer)
      );
    }
    const key = parsePublicKey(pem, 'Rekor entry');
    return key.spki.equals(entry.signer.key.spki);
  } catch {
    return false;
  }
}

function fail(why: string): never {
  throw new CosignCheckFailure('tlog-invalid', `the Rekor entry does not match this signature: ${why}`);
}
