/**
 * One entry point for "a Repository for this reference": registry references go to the remote
 * client, `oci:` layout references to the OCI image layout store.
 */
import { isLayoutReference } from '../reference/parse.js';
import type { ImageReference, LayoutReference } from '../reference/types.js';
import { openLayoutRepository } from './layout/index.js';
import type { RemoteRegistryOptions } from './remote/options.js';
import { RemoteRegistry } from './remote/registry.js';
import type { Repository } from './types.js';

/** The priority of registry requests (registry/remote/priority.ts), for callers outside registry/. */
export { withRegistryPriority } from './remote/priority.js';

export interface RegistryClient {
  /** The Repository holding `ref` (remote or layout). */
  repository(ref: ImageReference | LayoutReference): Repository;
  /** Releases pooled connections. */
  close(): Promise<void>;
}

/** Creates a client whose remote repositories share one connection pool and auth state. */
export function createRegistryClient(options: RemoteRegistryOptions = {}): RegistryClient {
  const remote = new RemoteRegistry(options);
  return {
    repository(ref) {
      return isLayoutReference(ref) ? openLayoutRepository(ref) : remote.repository(ref);
    },
    close() {
      return remote.close();
    },
  };
}
