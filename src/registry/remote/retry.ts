/** Retry timing (Retry-After, jittered backoff, abortable sleep) and CA loading for the transport. */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { VouchError } from '../../errors.js';
import { abortError } from './errors.js';

/** System CAs plus the PEM files given, or undefined (Node's defaults) when none are given. */
export function loadCAs(files: readonly string[]): string[] | undefined {
  if (files.length === 0) return undefined;
  const system =
    typeof tls.getCACertificates === 'function'
      ? tls.getCACertificates('default')
      : [...tls.rootCertificates];
  const extra = files.map((f) => {
    try {
      return readFileSync(f, 'utf8');
    } catch (err) {
      throw new VouchError('CONFIG_INVALID', `cannot read CA file ${f}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  });
  return [...system, ...extra];
}

/** Retry-After in milliseconds (delta-seconds or HTTP-date), or undefined. */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const when = Date.parse(value);
  return Number.isNaN(when) ? undefined : Math.max(0, when - Date.now());
}

/** Full-jitter exponential backoff: random in [0, min(2 s, 100 ms * 2^attempt)). */
export function backoff(attempt: number): number {
  return Math.random() * Math.min(2000, 100 * 2 ** attempt);
}

/** Waits `ms`, rejecting with DEADLINE_EXCEEDED/ABORTED when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal, what: string): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError(signal, `waiting to retry ${what}`));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal, `waiting to retry ${what}`));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
