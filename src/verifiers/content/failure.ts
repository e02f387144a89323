/**
 * The content verifiers' (vulnerability reports, SBOMs) stable reason codes and the one error
 * their pure checks throw. Reasons are API: policies, metrics, interop vectors and tests key on them.
 */

/** Every reason a content verifier reports. */
export type ContentReason =
  | 'ok'
  | 'malformed'
  | 'media-type-mismatch'
  | 'unreadable-severity'
  | 'disallowed-severity'
  | 'denylisted-cve'
  | 'disallowed-license'
  | 'disallowed-package'
  | 'too-old'
  | 'missing-created'
  | 'too-large';

/** Thrown by the parsers when a document is not what its media type says. */
export class ContentFailure extends Error {
  readonly reason: Exclude<ContentReason, 'ok'>;

  constructor(reason: Exclude<ContentReason, 'ok'>, message: string) {
    super(message);
    this.name = 'ContentFailure';
    this.reason = reason;
  }
}

/** Parses `bytes` as UTF-8 JSON; `malformed` naming `what` otherwise. */
export function parseJsonDocument(bytes: Uint8Array, what: string): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ContentFailure('malformed', `${what} is not UTF-8 text`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new ContentFailure('malformed', `${what} is not JSON (${detail})`);
  }
}

/** A plain JSON object, or undefined. */
export function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A string, or undefined. */
export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
