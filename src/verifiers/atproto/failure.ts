/**
 * The ATProto verifier's failure vocabulary. Every check below the verifier throws an
 * `AtprotoFailure` naming one stable reason; the verifier turns it into a Report. Reasons are API
 * (tests, policies and metrics key on them), messages are for people.
 */
import type { Outcome } from '../../engine/types.js';

/** Stable reasons of `atproto` reports. */
export type AtprotoReason =
  | 'ok'
  | 'record-not-found'
  | 'digest-mismatch'
  | 'repository-mismatch'
  | 'untrusted-signer'
  | 'untrusted-hold'
  | 'scan-mismatch'
  | 'invalid-signature'
  | 'high-s'
  | 'did-mismatch'
  | 'malformed'
  | 'media-type-mismatch'
  | 'too-large'
  | 'forbidden-address'
  | 'did-resolution-failed'
  | 'unreachable'
  | 'pds-unreachable'
  | 'timeout';

/** Reasons that mean "could not decide" (network, deadline) rather than "bad content". */
const INCONCLUSIVE: ReadonlySet<AtprotoReason> = new Set<AtprotoReason>([
  'did-resolution-failed',
  'unreachable',
  'pds-unreachable',
  'timeout',
]);

/** The outcome a reason maps to: `ok` verifies, network trouble is inconclusive, the rest fails. */
export function outcomeOf(reason: AtprotoReason): Outcome {
  if (reason === 'ok') return 'verified';
  return INCONCLUSIVE.has(reason) ? 'inconclusive' : 'failed';
}

/** A named verification failure (thrown inside the atproto verifier, never outside it). */
export class AtprotoFailure extends Error {
  readonly reason: Exclude<AtprotoReason, 'ok'>;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    reason: Exclude<AtprotoReason, 'ok'>,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AtprotoFailure';
    this.reason = reason;
    this.details = options.details ?? {};
  }
}

/**
 * A hostile value shown in a message, at most `max` characters. `String()` is not safe on
 * decoded JSON or DAG-CBOR: a map with a "toString" member throws a TypeError.
 */
export function shown(value: unknown, max = 80): string {
  if (typeof value === 'string') return value.slice(0, max);
  if (value === null || typeof value !== 'object') return String(value).slice(0, max);
  return Array.isArray(value) ? 'an array' : 'a map';
}

/** Shorthand for the most common failure: input that does not parse. */
export function malformed(message: string, cause?: unknown): AtprotoFailure {
  return new AtprotoFailure('malformed', message, { cause });
}
