/**
 * `com.atproto.sync.getRecord` (atproto lexicon `com/atproto/sync/getRecord.json`): unauthenticated
 * GET on the PDS named by the DID document; 200 `application/vnd.ipld.car` with a proof against
 * the repository's current head. A missing record may come back as a 200 proof of absence, or as
 * an XRPC error (`RecordNotFound`, `RepoNotFound`, …): both are `record-not-found`.
 */
import { AtprotoFailure } from './failure.js';
import { boundedGet, type FetchLike } from './identity/http.js';

/** Largest getRecord CAR read (a record is at most 1 MiB, plus a commit and an MST path). */
export const MAX_PROOF_BYTES = 2 * 1024 * 1024;

export async function fetchRecordProof(
  pds: string,
  target: { did: string; collection: string; rkey: string },
  options: { fetch: FetchLike; signal: AbortSignal; timeoutMs: number },
): Promise<Uint8Array> {
  const q = new URLSearchParams({ did: target.did, collection: target.collection, rkey: target.rkey });
  const res = await boundedGet(`${pds}/xrpc/com.atproto.sync.getRecord?${q}`, {
    fetch: options.fetch,
    signal: options.signal,
    timeoutMs: options.timeoutMs,
    maxBytes: MAX_PROOF_BYTES,
    accept: 'application/vnd.ipld.car',
    unreachable: 'pds-unreachable',
    what: `the PDS ${pds}`,
  });
  if (res.status === 200) return res.bytes;
  let error = '';
  try {
    const body = JSON.parse(Buffer.from(res.bytes).toString('utf8')) as { error?: unknown };
    error = typeof body.error === 'string' ? body.error.slice(0, 60) : '';
  } catch {
    error = '';
  }
  if (res.status >= 500)
    throw new AtprotoFailure('pds-unreachable', `the PDS ${pds} failed with HTTP ${res.status}`);
  if (
    res.status === 404 ||
    /^(RecordNotFound|RepoNotFound|RepoTakendown|RepoSuspended|RepoDeactivated)$/.test(error)
  ) {
    throw new AtprotoFailure(
      'record-not-found',
      `the PDS has no ${target.collection}/${target.rkey} for ${target.did}${error ? ` (${error})` : ''}`,
    );
  }
  throw new AtprotoFailure(
    'pds-unreachable',
    `the PDS answered getRecord with HTTP ${res.status}${error ? ` ${error}` : ''}`,
  );
}
