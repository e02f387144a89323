/**
 * The remote OCI registry client: one per process (or per config generation). It owns one pooled
 * keep-alive undici Agent, the auth state (tokens per scope), the per-host concurrency limits and
 * the per-host memo of Referrers API support, shared by every repository it hands out.
 */
import type { ImageReference } from '../../reference/types.js';
import type { RemoteContext } from './context.js';
import type { RemoteRegistryOptions } from './options.js';
import { RemoteRepository } from './repository.js';
import { Transport } from './transport.js';

export class RemoteRegistry {
  readonly #ctx: RemoteContext;

  constructor(options: RemoteRegistryOptions = {}) {
    this.#ctx = {
      transport: new Transport(options),
      referrersApi: new Map(),
      maxPages: options.maxPages ?? 20,
    };
  }

  /** A Repository for `ref`'s registry and repository (its tag/digest are not used). */
  repository(ref: ImageReference): RemoteRepository {
    return new RemoteRepository(this.#ctx, ref);
  }

  /** Whether `host` answered the Referrers API (undefined until probed). */
  referrersApiSupported(host: string): boolean | undefined {
    return this.#ctx.referrersApi.get(host);
  }

  /** Closes pooled connections; the registry must not be used afterwards. */
  close(): Promise<void> {
    return this.#ctx.transport.close();
  }
}
