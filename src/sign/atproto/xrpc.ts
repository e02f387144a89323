/**
 * A minimal XRPC client for the signer (atproto.com/specs/xrpc): JSON POST/GET with a deadline,
 * a response size limit and no redirects. Credentials go in the request only; error messages
 * carry the XRPC error name and message, never the request body.
 */
import { VouchError } from '../../errors.js';
import type { FetchLike } from '../../verifiers/atproto/identity/http.js';

const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export interface XrpcOptions {
  readonly fetch: FetchLike;
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
}

async function readBody(res: { body: ReadableStream<Uint8Array> | null }): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (res.body) {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.length;
      if (total > MAX_RESPONSE_BYTES) throw new VouchError('SIGNING_FAILED', 'the PDS answer is too large');
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks);
}

/** Calls `nsid` on `pds`; POST with a JSON body when `body` is given, else GET with `query`. */
export async function xrpc(
  pds: string,
  nsid: string,
  options: XrpcOptions & { body?: unknown; query?: Record<string, string>; token?: string },
): Promise<{ bytes: Uint8Array; json: () => Record<string, unknown> }> {
  const q = options.query ? `?${new URLSearchParams(options.query)}` : '';
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  const headers: Record<string, string> = { accept: 'application/json, application/vnd.ipld.car' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let res: Awaited<ReturnType<FetchLike>>;
  let bytes: Uint8Array;
  try {
    res = await options.fetch(`${pds}/xrpc/${nsid}${q}`, {
      method: options.body === undefined ? 'GET' : 'POST',
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal,
      redirect: 'manual',
    });
    bytes = await readBody(res);
  } catch (err) {
    if (err instanceof VouchError) throw err;
    const code = signal.aborted ? 'DEADLINE_EXCEEDED' : 'REGISTRY_UNREACHABLE';
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    throw new VouchError(code, `PDS ${pds} ${nsid}: ${signal.aborted ? 'no answer in time' : cause}`, {
      cause: err,
    });
  }
  const json = () => {
    try {
      return JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new VouchError('SIGNING_FAILED', `PDS ${pds} ${nsid}: the answer is not JSON`);
    }
  };
  if (res.status !== 200) {
    let detail = `HTTP ${res.status}`;
    try {
      const j = json();
      detail += ` ${String(j.error ?? '')} ${String(j.message ?? '')}`.trimEnd();
    } catch {
      // not JSON: the status says enough
    }
    throw new VouchError('SIGNING_FAILED', `PDS ${pds} ${nsid}: ${detail.slice(0, 300)}`);
  }
  return { bytes, json };
}
