/**
 * DID documents as atproto reads them (atproto.com/specs/did, "DID Documents"; atproto
 * `packages/common-web/src/did-doc.ts`): the `#atproto` verification method is the repository
 * signing key, the `#atproto_pds` service (type `AtprotoPersonalDataServer`) is the PDS, and the
 * first `at://` entry of `alsoKnownAs` is the handle the account claims (a claim until checked).
 */

import { isValidHandle } from '../../../trust/atproto/syntax.js';
import { malformed } from '../failure.js';
import { type AtprotoPublicKey, keyFromVerificationMethod } from '../repo/keys.js';

/** What verification needs from a DID document. JSON-serialisable (it is cached). */
export interface AtprotoIdentityData {
  readonly did: string;
  /** The `#atproto` key as a did:key string. */
  readonly signingKey: string;
  /** The `#atproto_pds` endpoint (an http(s) URL, not yet checked for private addresses). */
  readonly pds: string;
  /** The handle claimed in `alsoKnownAs`, lower-cased, when there is a valid one. */
  readonly handle?: string;
}

function matchesId(id: unknown, did: string, fragment: string): boolean {
  return id === `#${fragment}` || id === `${did}#${fragment}`;
}

/** The `#atproto` key of a DID document (both layouts). */
export function signingKeyOf(doc: Record<string, unknown>, did: string): AtprotoPublicKey {
  const methods = Array.isArray(doc.verificationMethod) ? doc.verificationMethod : [];
  const method = methods.find(
    (m): m is Record<string, unknown> =>
      typeof m === 'object' && m !== null && matchesId((m as Record<string, unknown>).id, did, 'atproto'),
  );
  if (!method) throw malformed(`the DID document of ${did} has no #atproto verification method`);
  if (typeof method.type !== 'string' || typeof method.publicKeyMultibase !== 'string') {
    throw malformed(`the #atproto verification method of ${did} has no type or publicKeyMultibase`);
  }
  return keyFromVerificationMethod(method.type, method.publicKeyMultibase);
}

/** The `#atproto_pds` endpoint of a DID document. */
export function pdsEndpointOf(doc: Record<string, unknown>, did: string): string {
  const services = Array.isArray(doc.service) ? doc.service : [];
  const service = services.find(
    (s): s is Record<string, unknown> =>
      typeof s === 'object' && s !== null && matchesId((s as Record<string, unknown>).id, did, 'atproto_pds'),
  );
  if (service?.type !== 'AtprotoPersonalDataServer' || typeof service.serviceEndpoint !== 'string') {
    throw malformed(`the DID document of ${did} has no #atproto_pds AtprotoPersonalDataServer service`);
  }
  let url: URL;
  try {
    url = new URL(service.serviceEndpoint);
  } catch {
    throw malformed(`the PDS endpoint of ${did} is not a URL`);
  }
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.username ||
    url.password ||
    url.search ||
    url.hash
  ) {
    throw malformed(`the PDS endpoint of ${did} is not a plain http(s) URL`);
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** The handle claimed by `alsoKnownAs` (first valid `at://` entry), lower-cased. */
export function claimedHandleOf(doc: Record<string, unknown>): string | undefined {
  const aka = Array.isArray(doc.alsoKnownAs) ? doc.alsoKnownAs : [];
  for (const entry of aka) {
    if (typeof entry === 'string' && entry.startsWith('at://')) {
      const handle = entry.slice('at://'.length).toLowerCase();
      if (isValidHandle(handle)) return handle;
    }
  }
  return undefined;
}

/** Parses a DID document for `did`; its `id` must be exactly `did`. */
export function parseDidDocument(value: unknown, did: string): AtprotoIdentityData {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw malformed(`the DID document of ${did} is not an object`);
  const doc = value as Record<string, unknown>;
  if (doc.id !== did)
    throw malformed(`the DID document's id is ${JSON.stringify(doc.id)?.slice(0, 80)}, not ${did}`);
  const handle = claimedHandleOf(doc);
  return {
    did,
    signingKey: signingKeyOf(doc, did).didKey,
    pds: pdsEndpointOf(doc, did),
    ...(handle ? { handle } : {}),
  };
}
