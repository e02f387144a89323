/**
 * What every CLI command shares: exit codes and the mapping from errors to them.
 * Commands parse and print only; the work is done by the library.
 */
import { TRANSIENT_CODES, toVouchError, VouchError } from '../errors.js';

/** Exit codes: 0 allowed, 1 denied, 2 usage or config error, 3 could not complete. */
export const ExitCode = { Allowed: 0, Denied: 1, Usage: 2, Incomplete: 3 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code for an error that stopped a command. */
export function exitCodeFor(err: unknown): ExitCode {
  const e = toVouchError(err);
  if (TRANSIENT_CODES.has(e.code)) return ExitCode.Incomplete;
  switch (e.code) {
    case 'REGISTRY_AUTH_FAILED':
    case 'REGISTRY_FORBIDDEN':
    case 'REGISTRY_NOT_FOUND':
    case 'REGISTRY_REDIRECT_REFUSED':
    case 'REGISTRY_UNSUPPORTED':
    case 'CONTENT_DIGEST_MISMATCH':
    case 'CONTENT_TOO_LARGE':
    case 'CONTENT_TRUNCATED':
    case 'MANIFEST_INVALID':
    case 'MANIFEST_UNSUPPORTED':
      return ExitCode.Incomplete;
    default:
      return ExitCode.Usage;
  }
}

/** Prints an error the way every command does: `vouch: <message> [<code>]` on stderr. */
export function printError(err: unknown): void {
  const e = toVouchError(err);
  process.stderr.write(`vouch: ${e.message} [${e.code}]\n`);
  if (process.env.VOUCH_DEBUG && e.cause)
    process.stderr.write(`cause: ${String((e.cause as Error).stack ?? e.cause)}\n`);
}

/** Parses a repeatable option into an array (commander helper). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export { VouchError };
