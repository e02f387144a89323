/**
 * AT Protocol identifier syntax (atproto.com/specs/did, /handle, /record-key, /nsid, /at-uri-scheme).
 * Everything that names a host or a path is checked here before any request is made.
 */

const DID = /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/;
const DID_PLC = /^did:plc:[a-z2-7]{24}$/;
const HANDLE = /^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const NSID =
  /^[a-zA-Z]([a-zA-Z0-9-]{0,62})?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})?)+(\.[a-zA-Z]([a-zA-Z0-9]{0,62})?)$/;
const RECORD_KEY = /^[a-zA-Z0-9_~.:-]{1,512}$/;

/** Generic DID syntax (W3C DID core, as restricted by atproto). */
export function isValidDid(did: string): boolean {
  return did.length <= 2048 && DID.test(did) && !/%(?![0-9A-Fa-f]{2})/.test(did);
}

/** A handle (a DNS name with atproto's extra rules); compared lower-cased. */
export function isValidHandle(handle: string): boolean {
  return handle.length <= 253 && HANDLE.test(handle);
}

export function isValidNsid(nsid: string): boolean {
  return nsid.length <= 317 && NSID.test(nsid);
}

export function isValidRecordKey(rkey: string): boolean {
  return rkey !== '.' && rkey !== '..' && RECORD_KEY.test(rkey);
}

/** The two DID methods atproto supports, parsed. `did:web` is host-only (port as `%3A`). */
export type ParsedDid =
  | { readonly method: 'plc'; readonly did: string }
  | { readonly method: 'web'; readonly did: string; readonly host: string };

/** Parses a DID that atproto can resolve, or returns an explanation of why not. */
export function parseAtprotoDid(did: string): ParsedDid | { readonly error: string } {
  if (!isValidDid(did)) return { error: `"${did.slice(0, 80)}" is not a valid DID` };
  if (did.startsWith('did:plc:')) {
    return DID_PLC.test(did)
      ? { method: 'plc', did }
      : { error: `"${did.slice(0, 80)}" is not a valid did:plc` };
  }
  if (did.startsWith('did:web:')) {
    const rest = did.slice('did:web:'.length);
    // host-only: a path (more ':' segments) is not allowed in atproto (atproto.com/specs/did)
    if (rest.includes(':'))
      return { error: `"${did.slice(0, 80)}" is a path-based did:web, which atproto does not allow` };
    const m = /^([a-z0-9.-]+)(%3A([0-9]{1,5}))?$/i.exec(rest);
    if (!m || (!isValidHandle(m[1]!) && m[1] !== 'localhost'))
      return { error: `"${did.slice(0, 80)}" does not name a valid host` };
    const port = m[3] === undefined ? '' : `:${Number(m[3])}`;
    if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535))
      return { error: `"${did}" has an invalid port` };
    return { method: 'web', did, host: `${m[1]!.toLowerCase()}${port}` };
  }
  return { error: `DID method of "${did.slice(0, 80)}" is not supported (only did:plc and did:web)` };
}

/** An `at://<did>/<collection>/<rkey>` record URI, parsed. */
export interface RecordUri {
  readonly did: string;
  readonly collection: string;
  readonly rkey: string;
}

/** Parses a record AT-URI whose authority is a DID (handles are not accepted: they are mutable). */
export function parseRecordUri(uri: string): RecordUri | undefined {
  const m = /^at:\/\/([^/?#]+)\/([^/?#]+)\/([^/?#]+)$/.exec(uri);
  if (!m || uri.length > 8192) return undefined;
  const [, did, collection, rkey] = m as unknown as [string, string, string, string];
  if (!isValidDid(did) || !isValidNsid(collection) || !isValidRecordKey(rkey)) return undefined;
  return { did, collection, rkey };
}
