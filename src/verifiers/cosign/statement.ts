/**
 * In-toto statements (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md,
 * and v0.1) carried in DSSE envelopes, and the declarative predicate conditions of the policy.
 */
import { z } from 'zod';
import type { AttestationRequirement, PredicateCondition } from '../../trust/cosign/types.js';
import { checkContentPredicate } from './content-predicate.js';
import { CosignCheckFailure, malformed } from './failure.js';
import { checkProvenance } from './provenance.js';

const statementSchema = z.object({
  _type: z.string().startsWith('https://in-toto.io/Statement/'),
  subject: z
    .array(z.object({ name: z.string().optional(), digest: z.record(z.string(), z.string()) }))
    .min(1),
  predicateType: z.string().min(1),
  predicate: z.unknown().optional(),
});

export type InTotoStatement = z.infer<typeof statementSchema>;

/** Parses the DSSE payload bytes as an in-toto statement; `malformed` otherwise. */
export function parseStatement(payload: Uint8Array): InTotoStatement {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return malformed('the DSSE payload is not JSON');
  }
  const parsed = statementSchema.safeParse(json);
  if (!parsed.success) return malformed('the DSSE payload is not an in-toto statement');
  return parsed.data;
}

/** True when a subject of the statement names `digest` (`<alg>:<hex>`). */
export function statementNamesDigest(statement: InTotoStatement, digest: string): boolean {
  const [alg, hex] = digest.split(':');
  return alg !== undefined && hex !== undefined && statement.subject.some((s) => s.digest[alg] === hex);
}

function lookup(value: unknown, segments: readonly (string | number)[]): unknown {
  let cur = value;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return cur;
}

/** Checks a statement against a requirement; throws predicate-type-mismatch / condition-failed. */
export function checkAttestation(statement: InTotoStatement, requirement: AttestationRequirement): void {
  if (statement.predicateType !== requirement.predicateType) {
    throw new CosignCheckFailure(
      'predicate-type-mismatch',
      `predicate type ${statement.predicateType} is not ${requirement.predicateType}`,
    );
  }
  for (const c of requirement.conditions) checkCondition(statement.predicate, c);
  if (requirement.provenance)
    checkProvenance(statement.predicateType, statement.predicate, requirement.provenance);
  if (requirement.content)
    checkContentPredicate(statement.predicateType, statement.predicate, requirement.content);
}

function checkCondition(predicate: unknown, c: PredicateCondition): void {
  const value = lookup(predicate, c.segments);
  if (c.equals !== undefined && value !== c.equals) {
    throw new CosignCheckFailure(
      'condition-failed',
      `${c.path} is ${JSON.stringify(value)}, not ${JSON.stringify(c.equals)}`,
    );
  }
  if (c.matches && (typeof value !== 'string' || !c.matches.test(value))) {
    throw new CosignCheckFailure(
      'condition-failed',
      `${c.path} (${JSON.stringify(value)}) does not match ${c.matches.source}`,
    );
  }
}
