/**
 * Compiles vouch's policy and decides, from the reports, whether an image may run.
 * Pure: no I/O, no clock except the time passed in.
 */
import { createHash } from 'node:crypto';
import type { Report, ScopePolicy } from '../engine/types.js';
import { type CompiledScope, compileScope, scopeMatches } from './scope.js';
import type { PolicyConfig, RequirementConfig } from './types.js';

/** The rule that applies to one image. */
export interface SelectedRule {
  readonly name: string;
  readonly mode: 'enforce' | 'audit';
  readonly match: 'all' | 'any';
  readonly require: readonly RequirementConfig[];
  /** Multi-arch semantics (docs/content-policy.md): `index`, `all` or the platforms to verify. */
  readonly platforms: 'index' | 'all' | readonly string[];
  /** With per-platform verification: also require the index's own artifacts. */
  readonly verifyIndex: boolean;
  /** True when no rule matched and the policy's default applies. */
  readonly isDefault: boolean;
  /** For the default rule: what the default says. */
  readonly defaultAction?: 'deny' | 'allow';
}

/** The policy's verdict, before the engine adds subject facts. */
export interface Verdict {
  readonly allowed: boolean;
  readonly verified: boolean;
  readonly mode: 'enforce' | 'audit';
  readonly wouldDeny: boolean;
  readonly rule: string;
  readonly why: readonly string[];
}

export interface Policy {
  /** Hash of the compiled policy: part of every cached decision's key. */
  readonly generation: string;
  /** The most specific rule whose scope matches `imageName` (`registry/repository`). */
  select(imageName: string): SelectedRule;
  /**
   * Weighs the reports on the image's artifacts against the rule. `scopes` holds, per verifier,
   * what that format's own trust policy says about the image (a requirement it marks not required
   * holds vacuously; one it marks `audit` cannot deny).
   */
  decide(rule: SelectedRule, reports: readonly Report[], scopes?: ReadonlyMap<string, ScopePolicy>): Verdict;
}

interface CompiledRule {
  readonly rule: SelectedRule;
  readonly scopes: readonly CompiledScope[];
  readonly order: number;
}

export function compilePolicy(config: PolicyConfig): Policy {
  const compiled: CompiledRule[] = config.rules.map((r, order) => ({
    order,
    scopes: (Array.isArray(r.scope) ? r.scope : [r.scope]).map(compileScope),
    rule: {
      name: r.name,
      mode: r.mode,
      match: r.match,
      require: r.require,
      platforms: r.platforms,
      verifyIndex: r.verifyIndex,
      isDefault: false,
    },
  }));
  const defaultRule: SelectedRule = {
    name: 'default',
    mode: 'enforce',
    match: 'all',
    require: [],
    platforms: 'index',
    verifyIndex: false,
    isDefault: true,
    defaultAction: config.default,
  };
  const generation = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);

  return {
    generation,
    select(imageName) {
      let best: { rule: CompiledRule; specificity: number } | undefined;
      for (const c of compiled) {
        for (const s of c.scopes) {
          if (!scopeMatches(s, imageName)) continue;
          if (
            !best ||
            s.specificity > best.specificity ||
            (s.specificity === best.specificity && c.order < best.rule.order)
          ) {
            best = { rule: c, specificity: s.specificity };
          }
        }
      }
      return best?.rule.rule ?? defaultRule;
    },
    decide(rule, reports, scopes) {
      return decide(rule, reports, scopes ?? new Map());
    },
  };
}

function decide(
  rule: SelectedRule,
  reports: readonly Report[],
  scopes: ReadonlyMap<string, ScopePolicy>,
): Verdict {
  if (rule.isDefault) {
    const allowed = rule.defaultAction === 'allow';
    return {
      allowed,
      verified: false,
      mode: 'enforce',
      wouldDeny: !allowed,
      rule: rule.name,
      why: [
        allowed
          ? 'no policy rule matches this image; the default allows it'
          : 'no policy rule matches this image; the default denies it',
      ],
    };
  }
  const results = rule.require.map((q) => {
    const scope = scopes.get(q.verifier);
    if (scope && !scope.required)
      return { ok: true, why: `${q.verifier}: not required by its policy "${scope.name}"`, audit: false };
    const r = evaluateRequirement(q, reports);
    if (!r.ok && scope?.mode === 'audit') {
      return { ok: true, why: `${r.why} (audit by its policy "${scope.name}": allowed)`, audit: true };
    }
    return { ...r, audit: false };
  });
  const satisfied =
    rule.require.length === 0 ||
    (rule.match === 'all' ? results.every((r) => r.ok) : results.some((r) => r.ok));
  const why = satisfied
    ? results.filter((r) => r.ok).map((r) => r.why)
    : results.filter((r) => !r.ok).map((r) => r.why);
  if (rule.require.length === 0) why.push(`rule "${rule.name}" requires no verification`);
  const audited = results.some((r) => r.audit);
  const audit = rule.mode === 'audit' || audited;
  if (rule.mode === 'audit' && !satisfied) why.push('audit mode: allowed, but enforce would deny');
  return {
    allowed: satisfied || rule.mode === 'audit',
    verified: satisfied && !audited,
    mode: audit ? 'audit' : 'enforce',
    wouldDeny: !satisfied || audited,
    rule: rule.name,
    why,
  };
}

/** What a content verifier found none of (signature verifiers find signatures). */
const NOTHING_FOUND: Readonly<Record<string, string>> = {
  vulnerabilityReport: 'vulnerability report',
  sbom: 'SBOM',
};

/** The in-toto predicate types a report is about (one bundle, or the layers of a `.att` manifest). */
function predicateTypesOf(r: Report): string[] {
  const d = r.details as { predicateType?: unknown; attestations?: unknown };
  const types = typeof d.predicateType === 'string' ? [d.predicateType] : [];
  if (Array.isArray(d.attestations))
    for (const a of d.attestations as Array<{ predicateType?: unknown }>)
      if (typeof a?.predicateType === 'string') types.push(a.predicateType);
  return types;
}

/** Why an attestation of this type was rejected, when a verifier said so beside others that verified. */
function rejectionOf(
  verifier: string,
  predicateType: string,
  reports: readonly Report[],
): string | undefined {
  for (const r of reports) {
    if (r.verifier !== verifier) continue;
    const rejected = (r.details as { rejected?: unknown }).rejected;
    if (!Array.isArray(rejected)) continue;
    const hit = (rejected as Array<{ predicateType?: unknown; reason?: unknown; message?: unknown }>).find(
      (x) => x?.predicateType === predicateType,
    );
    if (hit) return `${String(hit.reason)}: ${String(hit.message)}`;
  }
  return undefined;
}

function evaluateRequirement(q: RequirementConfig, reports: readonly Report[]): { ok: boolean; why: string } {
  const name = q.predicateType ? `${q.verifier} ${q.predicateType}` : q.verifier;
  const mine = reports.filter(
    (r) =>
      r.verifier === q.verifier &&
      (q.predicateType === undefined || predicateTypesOf(r).includes(q.predicateType)),
  );
  if (mine.length === 0)
    return {
      ok: false,
      why: q.predicateType
        ? `${name}: ${rejectionOf(q.verifier, q.predicateType, reports) ?? 'no attestation of this predicate type verified'}`
        : `${q.verifier}: no ${NOTHING_FOUND[q.verifier] ?? 'signature'} found`,
    };
  const signers = q.signedBy?.map((s) => s.verifier);
  const holds = (r: Report) =>
    r.outcome === 'verified' &&
    (signers === undefined || r.nested.some((n) => n.outcome === 'verified' && signers.includes(n.verifier)));
  const verified = mine.filter(holds);
  const bad = mine
    .filter((r) => !holds(r))
    .map((r) =>
      r.outcome === 'verified'
        ? {
            ...r,
            outcome: 'failed' as const,
            reason: 'unsigned-report',
            message: `${q.verifier}: the artifact ${r.artifact.digest} carries no signature verified by ${signers?.join(' or ')}`,
          }
        : r,
    );
  if (q.artifacts === 'any') {
    if (verified.length > 0)
      return { ok: true, why: `${name}: ${verified.length} of ${mine.length} verified` };
    return { ok: false, why: `${name}: ${describe(bad)}` };
  }
  if (bad.length === 0) return { ok: true, why: `${name}: all ${mine.length} verified` };
  return {
    ok: false,
    why: `${name}: ${bad.length} of ${mine.length} did not verify: ${describe(bad)}`,
  };
}

function describe(bad: readonly Report[]): string {
  const first = bad[0];
  if (!first) return 'nothing verified';
  const more = bad.length > 1 ? ` (and ${bad.length - 1} more)` : '';
  return `${first.message} [${first.reason}]${more}`;
}
