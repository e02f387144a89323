/**
 * The openssl CLI for test PKI (installed on every machine that runs the tests; scripts/test.sh):
 * one runner with a deadline and stderr in its errors, and the argument list of a self-signed
 * certificate, which the TSA, OCSP, server and token-issuer helpers all make.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const OPENSSL = process.env.VOUCH_TEST_OPENSSL_BIN ?? 'openssl';

/** Runs openssl in `cwd` with a deadline; failures carry its stderr. */
export async function openssl(args: readonly string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(OPENSSL, [...args], { cwd, timeout: 20_000 });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

export interface SelfSignedOptions {
  /** `rsa:2048` or `ec` (P-256). */
  readonly key: 'rsa:2048' | 'ec';
  readonly keyOut: string;
  readonly certOut: string;
  /** openssl `-subj` form, e.g. `/CN=name`. */
  readonly subject: string;
  readonly days: number | string;
  /** `-addext` values, e.g. `basicConstraints=critical,CA:TRUE`. */
  readonly extensions?: readonly string[];
}

/** `openssl req -x509 …` arguments for a self-signed certificate with an unencrypted key. */
export function selfSignedArgs(o: SelfSignedOptions): string[] {
  return [
    'req',
    '-x509',
    '-newkey',
    o.key,
    ...(o.key === 'ec' ? ['-pkeyopt', 'ec_paramgen_curve:P-256'] : []),
    '-nodes',
    '-keyout',
    o.keyOut,
    '-out',
    o.certOut,
    '-subj',
    o.subject,
    '-days',
    String(o.days),
    ...(o.extensions ?? []).flatMap((e) => ['-addext', e]),
  ];
}
