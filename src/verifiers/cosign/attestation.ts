/**
 * Legacy cosign attestations: `sha256-<hex>.att` manifests whose layers
 * (`application/vnd.dsse.envelope.v1+json`) are DSSE envelopes holding in-toto statements, with
 * the certificate, chain and Rekor SET as layer annotations (cosign `specs/ATTESTATION_SPEC.md`).
 * The envelope signature covers the DSSE pre-authentication encoding (DSSE v1 §Protocol); the
 * statement must name the image digest among its subjects; the policy's predicate requirements
 * apply.
 */
import { dsse } from '@sigstore/core';
import { z } from 'zod';
import type { CosignPolicy, CosignTrustMaterial } from '../../trust/cosign/types.js';
import { MediaTypes } from './constants.js';
import { CosignCheckFailure, decodeBase64Strict, malformed } from './failure.js';
import { type SignerOptions, type VerifiedSigner, verifySigner } from './signer.js';
import { checkAttestation, type InTotoStatement, parseStatement, statementNamesDigest } from './statement.js';

const envelopeSchema = z.object({
  payloadType: z.string().min(1),
  payload: z.string().min(1),
  signatures: z.array(z.object({ keyid: z.string().optional(), sig: z.string().min(1) })),
});

/** One `.att` layer as received. */
export interface DsseLayer {
  readonly mediaType: string;
  readonly envelope: Uint8Array;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface VerifiedAttestation extends VerifiedSigner {
  readonly statement: InTotoStatement;
}

/** Verifies one DSSE layer against the subject digest and the policy's attestation requirements. */
export function verifyDsseLayer(
  layer: DsseLayer,
  subjectDigest: string,
  policy: CosignPolicy,
  trust: CosignTrustMaterial,
  options: SignerOptions = {},
): VerifiedAttestation {
  if (layer.mediaType !== MediaTypes.dsseEnvelope) {
    malformed(`layer media type ${layer.mediaType} is not ${MediaTypes.dsseEnvelope}`);
  }
  let parsed: z.infer<typeof envelopeSchema>;
  try {
    parsed = envelopeSchema.parse(JSON.parse(Buffer.from(layer.envelope).toString('utf8')));
  } catch {
    return malformed('the attestation layer is not a DSSE envelope');
  }
  const first = parsed.signatures[0];
  if (parsed.signatures.length !== 1 || !first) {
    malformed(`the DSSE envelope has ${parsed.signatures.length} signatures, not 1`);
  }
  const payload = decodeBase64Strict(parsed.payload, 'DSSE payload');
  const signature = decodeBase64Strict(first.sig, 'DSSE signature');
  const signer = verifySigner(
    {
      signed: dsse.preAuthEncoding(parsed.payloadType, payload),
      signature,
      signatureBase64: first.sig,
      loggedPayload: payload,
      annotations: layer.annotations,
    },
    policy,
    trust,
    options,
  );
  if (parsed.payloadType !== MediaTypes.inTotoPayload)
    malformed(`DSSE payload type ${parsed.payloadType} is not in-toto`);
  const statement = parseStatement(payload);
  if (!statementNamesDigest(statement, subjectDigest)) {
    throw new CosignCheckFailure(
      'digest-mismatch',
      `no in-toto subject names ${subjectDigest}`,
      signer.details,
    );
  }
  checkRequirements(statement, policy);
  return { ...signer, statement };
}

/**
 * Applies the policy's attestation requirements to a verified statement: when any are configured,
 * the statement's predicate type must be one of them and meet that requirement's conditions.
 */
export function checkRequirements(statement: InTotoStatement, policy: CosignPolicy): void {
  if (policy.attestations.length === 0) return;
  const requirement = policy.attestations.find((a) => a.predicateType === statement.predicateType);
  if (!requirement) {
    throw new CosignCheckFailure(
      'predicate-type-mismatch',
      `predicate type ${statement.predicateType} is not one of ${policy.attestations.map((a) => a.predicateType).join(', ')}`,
      { predicateType: statement.predicateType },
    );
  }
  checkAttestation(statement, requirement);
}
