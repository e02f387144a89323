/**
 * Interop handlers for the `notation` family (../shared/interop/notation/README.md documents the kinds).
 * A kind with no handler here fails in the runner; nothing is skipped.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadNotationTrust } from '../../../src/trust/notation/load.js';
import { type StoreType, selectTrustPolicyStatement } from '../../../src/trust/notation/policy.js';
import { loadNamedStoreDirectory } from '../../../src/trust/notation/store.js';
import { verifyNotationEnvelope } from '../../../src/verifiers/notation/core.js';
import type { NotationFailureCode } from '../../../src/verifiers/notation/result.js';
import { defaultJudge } from '../judge.js';
import type { CaseResult, FamilyHandlers, InteropCase } from '../types.js';

/** The README's failure classes for each of the verifier's failure codes. */
const INTEROP_REASON: Readonly<Record<NotationFailureCode, string>> = {
  malformed: 'malformed',
  integrity: 'integrity',
  'digest-mismatch': 'integrity',
  unsupported: 'integrity',
  'untrusted-chain': 'untrusted-chain',
  identity: 'identity',
  expired: 'expired',
  'cert-expired': 'expired',
  'cert-not-yet-valid': 'expired',
  timestamp: 'timestamp',
  revoked: 'revoked',
  'revocation-unknown': 'revoked',
};

interface Mutation {
  readonly op: string;
  readonly header: string;
  readonly valueFromFile: string;
}

async function readEnvelope(testCase: InteropCase, dir: string): Promise<Uint8Array> {
  const bytes = await readFile(path.join(dir, String(testCase.envelope)));
  const mutation = testCase.mutation as Mutation | undefined;
  if (!mutation) return bytes;
  if (mutation.op !== 'setUnprotectedHeader') throw new Error(`unknown mutation ${mutation.op}`);
  const doc = JSON.parse(bytes.toString('utf8')) as { header?: Record<string, unknown> };
  const value = (await readFile(path.join(dir, mutation.valueFromFile))).toString('base64');
  doc.header = { ...(doc.header ?? {}), [mutation.header]: value };
  return new TextEncoder().encode(JSON.stringify(doc));
}

async function verifyEnvelopeCase(testCase: InteropCase, env: { dir: string }): Promise<CaseResult> {
  let trust: Awaited<ReturnType<typeof loadNotationTrust>>;
  try {
    trust = await loadNotationTrust(
      { configDir: '.', trustPolicy: testCase.trustPolicy as Record<string, unknown> },
      { baseDir: env.dir, configPath: `case ${testCase.id}` },
    );
  } catch (err) {
    return { verified: false, reason: 'trust-material', detail: (err as Error).message };
  }
  const statement = selectTrustPolicyStatement(trust.policy, 'interop.example/any/repository');
  if (!statement) return { verified: false, reason: 'no-trust-policy' };
  const subject = (testCase.subject as { mediaType: string; digest: string; size: number } | undefined) ?? {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${'0'.repeat(64)}`,
    size: 0,
  };
  const result = verifyNotationEnvelope(
    await readEnvelope(testCase, env.dir),
    String(testCase.envelopeMediaType),
    subject,
    trust,
    statement,
    { now: new Date(String(testCase.verifyAt)) },
  );
  if (result.verified) {
    const logged = (result.details.loggedFailures as unknown[] | undefined)?.length ?? 0;
    return {
      verified: true,
      reason: 'ok',
      ...(logged > 0 ? { detail: `logged: ${JSON.stringify(result.details.loggedFailures)}` } : {}),
    };
  }
  const failure = result.failure;
  return {
    verified: false,
    reason: failure ? INTEROP_REASON[failure.code] : 'error',
    detail: failure ? `${failure.check}: ${failure.message}` : 'no failure recorded',
  };
}

async function loadStoreCase(testCase: InteropCase, env: { dir: string }): Promise<CaseResult> {
  try {
    const store = await loadNamedStoreDirectory(
      env.dir,
      testCase.storeType as StoreType,
      String(testCase.storeName),
      `store ${String(testCase.storeName)}`,
    );
    return { verified: true, reason: 'ok', detail: `certificates=${store.certificates.length}` };
  } catch (err) {
    return { verified: false, reason: 'invalid-store', detail: (err as Error).message };
  }
}

export const notationFamily: FamilyHandlers = {
  family: 'notation',
  handlers: {
    'notation-envelope': verifyEnvelopeCase,
    'notation-truststore': loadStoreCase,
  },
  /** The default rule, plus `expect.certificateCount` for stores that load. */
  judge: (testCase, result) => {
    if (!defaultJudge(testCase, result)) return false;
    const count = testCase.expect.certificateCount;
    return typeof count !== 'number' || result.detail === `certificates=${count}`;
  },
};
