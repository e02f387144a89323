/**
 * Node flags for a long-running server. V8's defaults favour throughput on a big machine: under
 * load the young generation grows to 2 × 64 MiB semi-spaces, and with a heap limit of gigabytes
 * the old generation may grow to 4 × its live size before a full collection. A server keeping
 * ~50 MiB of live objects sat at 300+ MiB RSS after 10,000 images (docs/performance.md, "(d)
 * Memory"), over the Deployment's 256 MiB limit. Small semi-spaces and a heap growing factor of
 * 1.1 keep RSS near the live set at little cost to throughput, without a heap limit (a limit
 * would turn a large configured cache into an out-of-memory crash). `--optimize-for-size` saves a
 * little more but costs ~40 % of warm throughput, so it is not a default.
 *
 * V8 reads these flags only at start-up, so `vouch serve` re-executes itself with them
 * (`process.execve`: same pid, same stdio, same environment) before doing anything else, unless
 * they were given already. `VOUCH_SERVE_NODE_FLAGS` replaces the list (empty: no re-execution).
 *
 * The re-executed process also gets `MALLOC_ARENA_MAX=2` (unless the environment sets it): glibc
 * gives each thread that allocates (V8's GC helpers, libuv's pool) an arena of its own, up to 8 per
 * core, and each keeps the memory it freed. Two arenas cost nothing measurable in throughput here
 * and ~5 MiB of RSS after 10,000 images (docs/performance.md, "(d) Memory").
 */

/** The flags `vouch serve` runs node with by default. */
export const DEFAULT_SERVER_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=2',
  '--heap-growing-percent=10',
];

/** Set in the re-executed process so it never re-executes again. */
const MARK = 'VOUCH_SERVE_REEXECUTED';

/** glibc malloc settings for the re-executed process, where the environment does not set them. */
export const DEFAULT_SERVER_MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** The environment to re-execute with: the current one, the malloc defaults under it, and the mark. */
export function reexecEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...DEFAULT_SERVER_MALLOC_ENV, ...env, [MARK]: '1' };
}

/** The flags to run with, from `VOUCH_SERVE_NODE_FLAGS` (space-separated) or the defaults. */
export function serverNodeFlags(env: NodeJS.ProcessEnv): string[] {
  const given = env.VOUCH_SERVE_NODE_FLAGS;
  if (given === undefined) return [...DEFAULT_SERVER_NODE_FLAGS];
  return given.split(/\s+/).filter((f) => f.length > 0);
}

/**
 * The argv to re-execute with, or undefined when there is nothing to add: already re-executed,
 * no flags wanted, or every wanted flag's name already given on the command line or in NODE_OPTIONS.
 */
export function reexecArgv(
  process_: Pick<NodeJS.Process, 'execPath' | 'execArgv' | 'argv' | 'env'>,
): string[] | undefined {
  if (process_.env[MARK] === '1') return undefined;
  const present = [...process_.execArgv, ...(process_.env.NODE_OPTIONS ?? '').split(/\s+/)].map(
    (f) => f.split('=')[0],
  );
  const missing = serverNodeFlags(process_.env).filter((f) => !present.includes(f.split('=')[0]));
  if (missing.length === 0) return undefined;
  return [process_.execPath, ...missing, ...process_.execArgv, ...process_.argv.slice(1)];
}

/**
 * Re-executes the current process with the server's node flags (see above); returns only when
 * no re-execution is needed or `process.execve` is not available (Node < 23.11: runs as is).
 */
export function reexecWithServerNodeFlags(): void {
  const argv = reexecArgv(process);
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never })
    .execve;
  if (!argv || typeof execve !== 'function') return;
  execve.call(process, process.execPath, argv, reexecEnv(process.env));
}
