/**
 * Turning registry answers into specific VouchErrors: the status picks the code, the body (OCI
 * distribution-spec § Error Codes JSON, or anything else) supplies the words.
 */
import { VouchError, type VouchErrorCode } from '../../errors.js';
import type { ResponseBody } from './response-body.js';

const MAX_ERROR_BODY = 64 * 1024;

/** DEADLINE_EXCEEDED when the signal's reason is a timeout, else ABORTED. */
export function abortError(signal: AbortSignal, doing: string): VouchError {
  const reason: unknown = signal.reason;
  if (reason instanceof VouchError) return reason;
  const timeout = reason instanceof Error && reason.name === 'TimeoutError';
  return timeout
    ? new VouchError('DEADLINE_EXCEEDED', `the deadline passed while ${doing}`, { cause: reason })
    : new VouchError('ABORTED', `aborted while ${doing}`, { cause: reason });
}

/** Reads an error body (at most 64 KiB) and describes it in one line. */
export async function describeErrorBody(
  body: ResponseBody,
  contentType: string | undefined,
): Promise<string> {
  const bytes = await body.readUpTo(MAX_ERROR_BODY); // a broken error body still leaves the status to report
  const text = bytes.toString('utf8').trim();
  if (text === '') return 'no error body';
  try {
    const json = JSON.parse(text) as { errors?: unknown };
    if (Array.isArray(json.errors) && json.errors.length > 0) {
      return json.errors
        .slice(0, 3)
        .map((e: { code?: unknown; message?: unknown; detail?: unknown }) => {
          const code = typeof e.code === 'string' ? e.code : 'UNKNOWN';
          const message = typeof e.message === 'string' ? e.message : '';
          const detail =
            e.detail === undefined || e.detail === null
              ? ''
              : ` (${printable(JSON.stringify(e.detail), 200)})`;
          return `${code}: ${printable(message, 300)}${detail}`;
        })
        .join('; ');
    }
    return `JSON error body without an "errors" list: ${printable(text, 200)}`;
  } catch {
    return `non-JSON error body (${contentType ?? 'no content type'}): ${printable(text, 200)}`;
  }
}

/** Keeps printable ASCII, cut to `max` characters, so hostile bodies cannot mangle logs. */
export function printable(text: string, max: number): string {
  const clean = text.replace(/[^\x20-\x7e]+/g, ' ');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

/** The error for a final non-success status. */
export function statusError(status: number, what: string, host: string, description: string): VouchError {
  let code: VouchErrorCode;
  let lead: string;
  if (status === 401) {
    code = 'REGISTRY_AUTH_FAILED';
    lead = `${host} refused authentication for ${what}`;
  } else if (status === 403) {
    code = 'REGISTRY_FORBIDDEN';
    lead = `${host} denied access to ${what}`;
  } else if (status === 404) {
    code = 'REGISTRY_NOT_FOUND';
    lead = `${what} not found on ${host}`;
  } else if (status === 429) {
    code = 'REGISTRY_RATE_LIMITED';
    lead = `${host} is rate limiting requests for ${what}`;
  } else if (status === 405 || status === 501) {
    code = 'REGISTRY_UNSUPPORTED';
    lead = `${host} does not support this request for ${what}`;
  } else {
    code = 'REGISTRY_ERROR';
    lead = `${host} answered HTTP ${status} for ${what}`;
  }
  return new VouchError(code, `${lead} (HTTP ${status}: ${description})`, { details: { status, host } });
}

const RESET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

/** True for network failures worth retrying (the connection broke, not "nobody listens"). */
export function isConnectionReset(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  const causeCode = (err as { cause?: { code?: unknown } }).cause?.code;
  return (
    (typeof code === 'string' && RESET_CODES.has(code)) ||
    (typeof causeCode === 'string' && RESET_CODES.has(causeCode))
  );
}

/** REGISTRY_UNREACHABLE naming the host and the network error. */
export function unreachable(host: string, what: string, err: unknown): VouchError {
  const code = (err as { code?: unknown }).code;
  const detail = `${typeof code === 'string' ? `${code}: ` : ''}${(err as Error).message ?? String(err)}`;
  return new VouchError(
    'REGISTRY_UNREACHABLE',
    `cannot reach ${host} for ${what}: ${printable(detail, 300)}`,
    {
      cause: err,
      details: { host },
    },
  );
}
