/**
 * What the real-Rego test files share: the engine and the live vouch started once per file, the
 * ConstraintTemplates read from disk, one evaluation in both strictness modes, and an assertion on
 * the violation messages.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { LiveVouch } from './live.js';
import type { EvaluateOptions, Evaluation, ExternalDataCall, Provider, RegoEngine } from './vouchrego.js';
import { ROOT } from './vouchrego.js';

/** A ConstraintTemplate file and the kind it defines. */
export interface TemplateFile {
  readonly file: string;
  /** Relative to the project (or to ../shared), for test names. */
  readonly label: string;
  readonly kind: string;
}

function constraintKind(file: string): string | undefined {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const o = doc.toJS() as { kind?: string; spec?: { crd?: { spec?: { names?: { kind?: string } } } } };
    if (o?.kind === 'ConstraintTemplate') return o.spec?.crd?.spec?.names?.kind;
  }
  return undefined;
}

/** Every ConstraintTemplate in `dir` (relative to the project) whose file name matches `pattern`. */
export function templatesIn(dir: string, pattern: RegExp): TemplateFile[] {
  const abs = path.join(ROOT, dir);
  return readdirSync(abs)
    .filter((name) => pattern.test(name))
    .sort()
    .flatMap((name) => {
      const file = path.join(abs, name);
      const kind = constraintKind(file);
      return kind ? [{ file, label: `${dir}/${name}`, kind }] : [];
    });
}

/** The shipped templates: the kustomize overlay's and the Helm chart's copies. */
export const SHIPPED_TEMPLATES: readonly TemplateFile[] = [
  ...templatesIn('deploy/kubernetes/gatekeeper/templates', /\.yaml$/),
  ...templatesIn('deploy/helm/vouch/files', /^ct-.*\.yaml$/),
];

/**
 * The shipped templates with byte-identical copies evaluated once (labelled with every path that
 * holds those bytes): the Helm chart's copy is the overlay's today, and a copy that drifts is
 * evaluated on its own.
 */
export const DISTINCT_SHIPPED_TEMPLATES: readonly TemplateFile[] = (() => {
  const byContent = new Map<string, TemplateFile>();
  for (const t of SHIPPED_TEMPLATES) {
    const text = readFileSync(t.file, 'utf8');
    const seen = byContent.get(text);
    byContent.set(text, seen ? { ...seen, label: `${seen.label} = ${t.label}` } : t);
  }
  return [...byContent.values()];
})();

/** The engine and where the Providers point (CA, Gatekeeper's certificate), set by `before`. */
export interface World {
  engine: RegoEngine;
  live: Pick<LiveVouch, 'caFile' | 'clientCert'>;
}

export interface Case {
  readonly review: unknown;
  readonly parameters?: unknown;
  /** Where the provider named by the template points. */
  readonly providers: readonly Provider[];
  /** Present no client certificate. */
  readonly anonymous?: boolean;
  /**
   * With StrictBuiltinErrors the evaluation fails with this error instead (e.g. Ratify's
   * `count(remote_data.errors)` when Gatekeeper's client itself failed and `errors` is null).
   */
  readonly strictError?: RegExp;
}

/**
 * Evaluates `c` with StrictBuiltinErrors off (as Gatekeeper runs) and on; both must give the same
 * violations (a template that only works because builtin errors are swallowed is a bug), unless the
 * case names the error strict mode raises. Returns the Gatekeeper-mode result.
 */
export async function evaluateBoth(world: World, template: TemplateFile, c: Case): Promise<Evaluation> {
  const base: Omit<EvaluateOptions, 'strict'> = {
    template: template.file,
    review: c.review,
    parameters: c.parameters ?? {},
    providers: c.providers,
    caFile: world.live.caFile,
    ...(c.anonymous ? {} : { clientCert: world.live.clientCert }),
  };
  if (c.strictError) {
    const [lax] = await Promise.all([
      world.engine.evaluate({ ...base, strict: false }),
      assert.rejects(world.engine.evaluate({ ...base, strict: true }), c.strictError),
    ]);
    return lax;
  }
  const [lax, strict] = await Promise.all([
    world.engine.evaluate({ ...base, strict: false }),
    world.engine.evaluate({ ...base, strict: true }),
  ]);
  assert.deepEqual(
    normalise(strict.messages),
    normalise(lax.messages),
    `${template.label}: -strict changes the violations`,
  );
  return lax;
}

/**
 * Trace ids differ per call (Ratify v1's `trace-id: …`, and the `"traceID"` of a whole value that
 * Ratify v2's message prints), and so does where Go's HTTP client notices a refused handshake
 * (`readLoopPeekFailLocked: ` or not); nothing else may.
 */
const normalise = (messages: readonly string[]) =>
  messages.map((m) =>
    m
      .replace(/trace-id: [0-9a-f-]+/g, 'trace-id: <id>')
      .replace(/"traceID": "[0-9a-f-]+"/g, '"traceID": "<id>"')
      .replace('readLoopPeekFailLocked: ', ''),
  );

/**
 * The violations are exactly `expected`: as many, and each expected string (equal) or pattern
 * (matching) has its own message.
 */
export function assertViolations(
  result: Evaluation,
  expected: ReadonlyArray<string | RegExp>,
  label: string,
): void {
  const left = [...result.messages];
  for (const want of expected) {
    const at = left.findIndex((m) => (typeof want === 'string' ? m === want : want.test(m)));
    assert.ok(at >= 0, `${label}: no violation ${want} among ${JSON.stringify(result.messages, null, 1)}`);
    left.splice(at, 1);
  }
  assert.deepEqual(left, [], `${label}: unexpected violations`);
}

/** The keys of the one external_data call, or undefined when the Rego made none. */
export function sentKeys(result: Evaluation): readonly string[] | undefined {
  assert.ok(result.calls.length <= 1, `more than one external_data call: ${JSON.stringify(result.calls)}`);
  const call: ExternalDataCall | undefined = result.calls[0];
  return call ? (call.keys ?? []) : undefined;
}

/** The system_error Gatekeeper's client reports for a provider where nothing listens. */
export const refused = (url: string) =>
  new RegExp(
    `failed to send external data request: Post "${escapeRegExp(url)}[^"]*": dial tcp [^:]+:\\d+: connect: connection refused`,
  );

/** The system_error for a call without a client certificate (vouch demands one in the handshake). */
export const certificateRequired = (url: string) =>
  new RegExp(
    `failed to send external data request: Post "${escapeRegExp(url)}[^"]*": (readLoopPeekFailLocked: )?remote error: tls: certificate required`,
  );

export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * The path of the shipped Provider `name` (deploy/kubernetes/gatekeeper/providers.yaml), so the
 * templates are evaluated against the routes the overlay really points them at.
 */
export function shippedProviderPath(name: string): string {
  const file = path.join(ROOT, 'deploy', 'kubernetes', 'gatekeeper', 'providers.yaml');
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const o = doc.toJS() as { kind?: string; metadata?: { name?: string }; spec?: { url?: string } };
    if (o?.kind === 'Provider' && o.metadata?.name === name && o.spec?.url)
      return new URL(o.spec.url).pathname;
  }
  throw new Error(`providers.yaml has no Provider ${name}`);
}
