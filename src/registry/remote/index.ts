/** The remote OCI registry client (OCI distribution-spec 1.1). */

export { artifactTypeOf, MANIFEST_ACCEPT, parseDescriptor, parseManifest } from '../manifest.js';
export { referrersTag } from '../referrers-tag.js';
export { parseChallenge } from './challenge.js';
export type { RegistryRequestEvent, RemoteRegistryOptions } from './options.js';
export type { PushBlobOptions } from './push.js';
export { CHUNK_BYTES } from './push.js';
export { RemoteRegistry } from './registry.js';
export { checkManifestReference, RemoteRepository } from './repository.js';
