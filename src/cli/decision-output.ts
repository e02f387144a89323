/**
 * How a Decision is printed: JSON (a documented, stable schema: docs/verify-output.md) and text
 * for a person, with a next step for each failure reason.
 */
import type { Decision, Report } from '../engine/types.js';

/** The JSON document `vouch verify -o json` prints (schema in docs/verify-output.md). */
export function decisionJson(d: Decision): Record<string, unknown> {
  return {
    verified: d.verified,
    allowed: d.allowed,
    isSuccess: d.verified,
    mode: d.mode,
    wouldDeny: d.wouldDeny,
    reference: d.reference,
    digest: d.subject.digest,
    subject: d.subject,
    rule: d.rule,
    why: d.why,
    reports: d.reports.map(reportJson),
    ...(d.platforms
      ? {
          platforms: d.platforms.map((p) => ({
            platform: p.platform,
            ...(p.digest ? { digest: p.digest } : {}),
            allowed: p.allowed,
            verified: p.verified,
            reason: p.reason,
            why: p.why,
            reports: p.reports.map(reportJson),
          })),
        }
      : {}),
    decidedAt: d.decidedAt,
  };
}

function reportJson(r: Report): Record<string, unknown> {
  return {
    verifier: r.verifier,
    artifact: r.artifact,
    outcome: r.outcome,
    reason: r.reason,
    message: r.message,
    details: r.details,
    nested: r.nested.map(reportJson),
  };
}

const NEXT_STEPS: Record<string, string> = {
  'no-signature':
    'sign the image (vouch sign …) or check that its signatures were pushed to the same repository',
  'untrusted-signer':
    "add the signer's certificate, key or DID to the trust material the policy names, or check the trusted identities",
  'invalid-signature': 'the signature does not match its content: re-sign the image; do not trust this copy',
  integrity: 'the signature does not match its content: re-sign the image; do not trust this copy',
  'digest-mismatch': 'the signature names another image: sign this exact digest',
  expired: 'the signing certificate or signature has expired: re-sign, or sign with a trusted timestamp',
  'not-yet-valid': 'the certificate is not valid yet: check the signer’s and this machine’s clocks',
  revoked: 'the signing certificate was revoked: re-sign with a valid certificate',
  malformed: 'the artifact could not be parsed: check the tool that produced it',
  unsupported: 'this signature uses a feature vouch does not support',
  timeout: 'the deadline passed: retry, or raise engine.timeoutMs / the request budget',
  unreachable: 'a server could not be reached: check network access and retry',
  error: 'verification could not complete: see the message and retry',
};

/** Text for a person: the decision, the subject digest, and per artifact the verifier, outcome and reason. */
export function decisionText(d: Decision): string {
  const lines: string[] = [];
  const verdict = d.allowed ? (d.wouldDeny ? 'ALLOWED (audit: enforce would deny)' : 'ALLOWED') : 'DENIED';
  lines.push(`${verdict}  ${d.reference}`);
  lines.push(`  subject   ${d.subject.name}@${d.subject.digest}`);
  lines.push(`  rule      ${d.rule} (${d.mode})`);
  if (d.reports.length === 0) lines.push('  artifacts none verified');
  const walk = (r: Report, depth: number) => {
    const mark =
      r.verifier === 'none' ? '·' : r.outcome === 'verified' ? '✓' : r.outcome === 'failed' ? '✗' : '?';
    const pad = '  '.repeat(depth);
    lines.push(`  ${pad}${mark} ${r.verifier} ${r.outcome} [${r.reason}] ${r.artifact.digest}`);
    lines.push(`  ${pad}    ${r.message}`);
    for (const n of r.nested) walk(n, depth + 1);
  };
  for (const r of d.reports) walk(r, 0);
  for (const w of d.why) lines.push(`  why       ${w}`);
  if (!d.verified) {
    const reasons = new Set(d.reports.filter((r) => r.outcome !== 'verified').map((r) => r.reason));
    if (d.reports.length === 0 && !d.rule.startsWith('default')) reasons.add('no-signature');
    for (const reason of reasons) {
      const step = NEXT_STEPS[reason];
      if (step) lines.push(`  next step ${step}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
