/**
 * `com.atproto.sync.getBlob` (atproto lexicon `com/atproto/sync/getBlob.json`): the blob's bytes
 * from the PDS of the repository that references it. The bytes must hash to the CID the signed
 * record names (raw codec, SHA-256): the PDS is not trusted for content, only the record is.
 */
import { createHash } from 'node:crypto';
import type { CID } from 'multiformats/cid';
import { AtprotoFailure } from '../failure.js';
import { boundedGet, type FetchLike } from '../identity/http.js';

const RAW = 0x55;
const SHA256 = 0x12;

export async function fetchVerifiedBlob(
  pds: string,
  did: string,
  cid: CID,
  options: { fetch: FetchLike; signal: AbortSignal; timeoutMs: number; maxBytes: number },
): Promise<Uint8Array> {
  if (cid.code !== RAW || cid.multihash.code !== SHA256)
    throw new AtprotoFailure('malformed', `blob ${cid} is not a raw SHA-256 CID`);
  const q = new URLSearchParams({ did, cid: cid.toString() });
  const res = await boundedGet(`${pds}/xrpc/com.atproto.sync.getBlob?${q}`, {
    fetch: options.fetch,
    signal: options.signal,
    timeoutMs: options.timeoutMs,
    maxBytes: options.maxBytes,
    accept: '*/*',
    unreachable: 'pds-unreachable',
    what: `the PDS ${pds}`,
  });
  if (res.status >= 500 || res.status === 429)
    throw new AtprotoFailure('pds-unreachable', `the PDS ${pds} answered getBlob with HTTP ${res.status}`);
  if (res.status !== 200)
    throw new AtprotoFailure(
      'record-not-found',
      `the PDS has no blob ${cid} for ${did} (HTTP ${res.status})`,
    );
  const digest = createHash('sha256').update(res.bytes).digest();
  if (!digest.equals(Buffer.from(cid.multihash.digest)))
    throw new AtprotoFailure(
      'digest-mismatch',
      `the PDS sent bytes for blob ${cid} that hash to sha256:${digest.toString('hex')}, not the CID the record names`,
    );
  return res.bytes;
}
