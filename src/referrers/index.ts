/** Referrer discovery and attaching artifacts (OCI referrers and cosign's tag schema). */

export { referrersTag } from '../registry/referrers-tag.js';
export { type AttachOptions, attachArtifact } from './attach.js';
export { COSIGN_TAG_KINDS, cosignTag } from './cosign-tags.js';
export {
  DEFAULT_DISCOVERY_DEPTH,
  DEFAULT_MAX_ARTIFACTS,
  type DiscoverOptions,
  discoverArtifacts,
  flattenArtifacts,
} from './discover.js';
export { addToReferrersIndex } from './tag-schema.js';
