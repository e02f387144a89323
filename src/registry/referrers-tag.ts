/**
 * The tag of the referrers tag schema (distribution-spec 1.1 § Referrers Tag Schema): for a
 * registry without the Referrers API, the referrers of `<alg>:<hex>` are listed in an OCI index
 * tagged `<alg>-<hex>`, the hex cut to 64 characters (a tag has at most 128). One definition for
 * the remote client, which reads that index, and src/referrers/tag-schema.ts, which writes it.
 */
import { validateDigest } from '../reference/digest.js';

/** The fallback tag for `digest`: `sha256:ab…` → `sha256-ab…`. Throws DIGEST_INVALID. */
export function referrersTag(digest: string): string {
  const d = validateDigest(digest);
  const colon = d.indexOf(':');
  return `${d.slice(0, colon)}-${d.slice(colon + 1, colon + 1 + 64)}`;
}
