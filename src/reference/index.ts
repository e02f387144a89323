/** Image references and digests: parsing, validation, formatting. */

export { computeDigest, DIGEST_HEX_LENGTH, digestAlgorithm, isDigest, validateDigest } from './digest.js';
export {
  DOCKER_HUB,
  formatReference,
  isLayoutReference,
  manifestReference,
  NAME_MAX_LENGTH,
  parseAnyReference,
  parseReference,
  pinnedReference,
  repositoryName,
  TAG_MAX_LENGTH,
  withDefaultTag,
} from './parse.js';
export type { ImageReference, LayoutReference } from './types.js';
