/** Credentials given explicitly (config file or flags), keyed by registry host. */
import type { Credential, CredentialStore } from './types.js';

/** A store over a fixed host → credential map (`docker.io` also answers for `index.docker.io`). */
export class StaticCredentialStore implements CredentialStore {
  readonly #byHost: ReadonlyMap<string, Credential>;

  constructor(credentials: Readonly<Record<string, Credential>>) {
    this.#byHost = new Map(Object.entries(credentials).map(([host, c]) => [normalizeHost(host), c]));
  }

  async get(host: string): Promise<Credential | undefined> {
    return this.#byHost.get(normalizeHost(host));
  }
}

/** Tries each store in order; the first that knows the host answers. */
export class ChainCredentialStore implements CredentialStore {
  readonly #stores: readonly CredentialStore[];

  constructor(stores: readonly CredentialStore[]) {
    this.#stores = stores;
  }

  async get(host: string): Promise<Credential | undefined> {
    for (const store of this.#stores) {
      const found = await store.get(host);
      if (found) return found;
    }
    return undefined;
  }
}

const DOCKER_HUB_KEYS = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'https://index.docker.io/v1/',
  'https://index.docker.io/v1',
]);

/**
 * Normalizes a host key the way docker does for config.json `auths` keys: strips a scheme and
 * path (`https://host/v1/` → `host`), lowercases, and folds Docker Hub's names to `docker.io`.
 */
export function normalizeHost(key: string): string {
  const trimmed = key.trim();
  if (DOCKER_HUB_KEYS.has(trimmed.toLowerCase())) return 'docker.io';
  let host = trimmed.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = host.indexOf('/');
  if (slash >= 0) host = host.slice(0, slash);
  host = host.toLowerCase();
  return DOCKER_HUB_KEYS.has(host) ? 'docker.io' : host;
}
