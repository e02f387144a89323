/**
 * The verification facts of a decision, as published and as matched against verification
 * details: per verified signature report, who signed (cosign key id, keyless identity and issuer;
 * a notation or ATProto signer's subject or DID when the report names one). Only reports the
 * cluster's verifiers marked `verified` count, so a fact here is one the cluster policy accepted.
 */
import { CONTAINER_VERIFIER } from '../../engine/reports.js';
import type { Decision, Report } from '../../engine/types.js';
import type { PublishedSignature } from './envelope.js';

type Signer = PublishedSignature['signers'][number];

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const str = (v: unknown, max = 2048): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v.slice(0, max) : undefined;

/** One signer from the details shapes the verifiers write (cosign `key`/`identity`, others' `signer`/`did`). */
function signerOf(d: Record<string, unknown>): Signer | undefined {
  const out: { keyId?: string; identity?: string[]; issuer?: string; subject?: string } = {};
  if (isRecord(d.key)) {
    const id = str(d.key.id, 200);
    if (id) out.keyId = id;
  }
  if (isRecord(d.identity)) {
    const subjects = Array.isArray(d.identity.subjects)
      ? d.identity.subjects.filter((s): s is string => typeof s === 'string').slice(0, 16)
      : [];
    if (subjects.length > 0) out.identity = subjects.map((s) => s.slice(0, 2048));
    const issuer = str(d.identity.issuer);
    if (issuer) out.issuer = issuer;
  }
  const subject = str(d.signer) ?? str(d.did) ?? str(d.subject);
  if (subject) out.subject = subject;
  return Object.keys(out).length > 0 ? out : undefined;
}

function signersOf(details: Readonly<Record<string, unknown>>): Signer[] {
  const lists = [details.signers, details.attestations].filter(Array.isArray) as unknown[][];
  const nested = lists.flat().filter(isRecord).map(signerOf);
  const own = signerOf(details);
  return [...nested, own].filter((s): s is Signer => s !== undefined).slice(0, 16);
}

/** The verified signature reports of `decision` (the image's, and each decided platform's). */
export function verifiedSignatures(decision: Decision): PublishedSignature[] {
  const reports: Report[] = [
    ...decision.reports,
    ...(decision.platforms ?? []).flatMap((p) => p.reports),
  ].filter((r) => r.outcome === 'verified' && r.verifier !== CONTAINER_VERIFIER);
  return reports.slice(0, 32).map((r) => ({
    verifier: r.verifier.slice(0, 64),
    artifact: r.artifact.digest.slice(0, 200),
    signers: signersOf(r.details),
  }));
}
