/**
 * The images admitted per opted-in namespace, kept in the server's cache (Redis when configured,
 * so every replica answers alike) under `public-apps:<namespace>`. Each image expires `ttlMs`
 * after its last admission; a namespace keeps at most `maxImages` (the most recently admitted).
 * Nothing is stored but image references and verification facts (pod names only when asked).
 *
 * Updates are read-modify-write: in one process they are serialised per namespace; two replicas
 * admitting into one namespace at the same instant can lose one of the two updates until that
 * image is admitted again (docs/remote-verification.md, "Consistency").
 */
import type { Cache } from '../../cache/types.js';
import type { PublishedImage } from './envelope.js';

/** What the store keeps for a namespace. */
interface Stored {
  readonly images: ReadonlyArray<PublishedImage & { readonly expiresAt: number }>;
}

export interface ApplicationStore {
  /** Records (or refreshes) the admitted images of one admission in `namespace`. */
  record(namespace: string, images: readonly PublishedImage[], now?: Date): Promise<void>;
  /** The images still listed for `namespace`, most recently admitted first. */
  list(namespace: string, now?: Date): Promise<PublishedImage[]>;
}

export interface ApplicationStoreOptions {
  readonly cache: Cache;
  readonly ttlMs: number;
  readonly maxImages: number;
}

const keyOf = (namespace: string) => `public-apps:${namespace}`;
const identity = (i: PublishedImage) => `${i.container}\u0000${i.reference}\u0000${i.pod ?? ''}`;

export function createApplicationStore(options: ApplicationStoreOptions): ApplicationStore {
  const { cache, ttlMs, maxImages } = options;
  const queues = new Map<string, Promise<void>>();
  const live = (stored: Stored | undefined, now: number) =>
    (stored?.images ?? []).filter((i) => i.expiresAt > now);

  const update = async (namespace: string, images: readonly PublishedImage[], now: number) => {
    const fresh = new Map(images.map((i) => [identity(i), { ...i, expiresAt: now + ttlMs }]));
    const kept = live(await cache.get<Stored>(keyOf(namespace)), now).filter((i) => !fresh.has(identity(i)));
    const all = [...fresh.values(), ...kept].sort((a, b) => b.expiresAt - a.expiresAt).slice(0, maxImages);
    await cache.set<Stored>(keyOf(namespace), { images: all }, ttlMs);
  };

  return {
    record(namespace, images, now = new Date()) {
      if (images.length === 0) return Promise.resolve();
      const previous = queues.get(namespace) ?? Promise.resolve();
      const next = previous.then(() => update(namespace, images, now.getTime()));
      const settled = next.catch(() => {});
      queues.set(namespace, settled);
      void settled.then(() => {
        if (queues.get(namespace) === settled) queues.delete(namespace);
      });
      return next;
    },
    async list(namespace, now = new Date()) {
      return live(await cache.get<Stored>(keyOf(namespace)), now.getTime()).map(
        ({ expiresAt: _e, ...image }) => image,
      );
    },
  };
}
