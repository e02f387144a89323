/**
 * The real Rego engine for the Gatekeeper template suite: `vouchrego` from ../shared/tools/rego
 * (OPA v0.51.0 and Gatekeeper's own external_data client, open-policy-agent/frameworks@6ccacf85;
 * its README). It is built once per machine into the temporary directory, keyed by a hash of the
 * harness, the vendored tarball and the build script, so reruns reuse it; concurrent test files
 * wait for one build instead of starting their own.
 *
 * `evaluate` runs one ConstraintTemplate on one AdmissionRequest against live providers and returns
 * the violations and the external_data calls exactly as the binary printed them.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The project root (test/gatekeeper-rego/ is two below it). */
export const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** ../shared beside the checkout: the engine and the upstream templates, read in place. */
export const SHARED = path.resolve(ROOT, '..', 'shared');
export const REGO_TOOL = path.join(SHARED, 'tools', 'rego');

/** Why the suite cannot run here, or false when it can. */
export function skipReason(): string | false {
  if (existsSync(path.join(REGO_TOOL, 'build.sh'))) return false;
  return `${REGO_TOOL} is absent (no ../shared beside the checkout): the real-Rego Gatekeeper template suite is skipped`;
}

const BUILD_INPUTS = ['main.go', 'constraint-6ccacf85.tar.gz', 'build.sh'];

/** Builds vouchrego (or finds the cached build) and returns its path. */
export async function buildVouchrego(): Promise<string> {
  const hash = createHash('sha256');
  for (const name of BUILD_INPUTS) hash.update(await readFile(path.join(REGO_TOOL, name)));
  const dir = path.join(tmpdir(), `vouchrego-${hash.digest('hex').slice(0, 16)}`);
  const binary = path.join(dir, 'vouchrego');
  if (existsSync(binary)) return binary;
  await mkdir(dir, { recursive: true });
  const lock = path.join(dir, 'building');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      if (existsSync(binary)) return binary;
      // a lock older than any build left by a killed run
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 150_000) await rm(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`waited 180 s for another build of ${binary}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    if (existsSync(binary)) return binary;
    const partial = `${binary}.${process.pid}`;
    await execFileAsync('bash', [path.join(REGO_TOOL, 'build.sh'), partial], { timeout: 170_000 }).catch(
      (err: Error & { stderr?: string }) => {
        throw new Error(`building vouchrego failed: ${err.stderr || err.message}`);
      },
    );
    await rename(partial, binary);
    return binary;
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** A Gatekeeper Provider as vouchrego takes it: a name and an https URL. */
export interface Provider {
  readonly name: string;
  readonly url: string;
}

export interface EvaluateOptions {
  /** The ConstraintTemplate YAML file (only its first target's Rego and libs are used). */
  readonly template: string;
  /** The AdmissionRequest (`input.review`). */
  readonly review: unknown;
  /** The constraint's spec.parameters (`input.parameters`). */
  readonly parameters?: unknown;
  readonly providers: readonly Provider[];
  /** The Providers' caBundle (the CA of vouch's serving certificate). */
  readonly caFile: string;
  /** The certificate Gatekeeper presents; none for a caller without one. */
  readonly clientCert?: { readonly cert: string; readonly key: string };
  /** rego.StrictBuiltinErrors (Gatekeeper leaves it off). */
  readonly strict: boolean;
}

export interface ExternalDataCall {
  readonly provider: string;
  readonly keys: readonly string[] | null;
  readonly error?: string;
  readonly status?: number;
  readonly rego_response?: {
    readonly responses: ReadonlyArray<readonly [string, unknown]>;
    readonly errors: ReadonlyArray<readonly [string, string]>;
    readonly status_code: number;
    readonly system_error: string;
  };
}

export interface Evaluation {
  /** The `msg` of every violation, sorted (Rego sets have no order). */
  readonly messages: readonly string[];
  readonly calls: readonly ExternalDataCall[];
}

/** The engine: one binary, and a scratch directory for the inputs. */
export interface RegoEngine {
  evaluate(options: EvaluateOptions): Promise<Evaluation>;
  close(): Promise<void>;
}

/** At most this many vouchrego processes at once (the tests run their cases concurrently). */
const MAX_RUNNING = 4;

export async function createRegoEngine(): Promise<RegoEngine> {
  const binary = await buildVouchrego();
  const work = await mkdtemp(path.join(tmpdir(), 'vouch-rego-'));
  let n = 0;
  let running = 0;
  const waiting: Array<() => void> = [];
  const slot = async (): Promise<() => void> => {
    if (running >= MAX_RUNNING) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    return () => {
      running--;
      waiting.shift()?.();
    };
  };
  return {
    async evaluate(o) {
      const release = await slot();
      try {
        return await evaluateOnce(o);
      } finally {
        release();
      }
    },
    close: () => rm(work, { recursive: true, force: true }),
  };

  async function evaluateOnce(o: EvaluateOptions): Promise<Evaluation> {
    const input = path.join(work, `review-${n++}.json`);
    await writeFile(input, JSON.stringify(o.review));
    const args = [
      '-template',
      o.template,
      '-input',
      input,
      '-parameters',
      JSON.stringify(o.parameters ?? {}),
      '-ca',
      o.caFile,
      ...o.providers.flatMap((p) => ['-provider', `${p.name}=${p.url}`]),
      ...(o.clientCert ? ['-client-cert', o.clientCert.cert, '-client-key', o.clientCert.key] : []),
      ...(o.strict ? ['-strict'] : []),
    ];
    let stdout: string;
    try {
      ({ stdout } = await execFileAsync(binary, args, { timeout: 20_000 }));
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`vouchrego ${path.basename(o.template)}: ${e.stderr?.trim() || e.message}`);
    }
    const out = JSON.parse(stdout) as {
      violations: Array<{ msg: string }> | null;
      external_data_calls: ExternalDataCall[] | null;
    };
    return {
      messages: (out.violations ?? []).map((v) => v.msg).sort(),
      calls: out.external_data_calls ?? [],
    };
  }
}
