/**
 * TLS for the server: HTTPS by default, TLS 1.2 and 1.3 accepted (Gatekeeper's client requires 1.3,
 * protocols README §1.2), mTLS when a client CA is configured (a client certificate chaining to it
 * is required, as Ratify's `RequireAndVerifyClientCert`).
 *
 * Certificates rotate under us: cert-manager or Gatekeeper's cert-controller rewrite the mounted
 * secret (Kubernetes swaps a `..data` symlink). The files are watched (their folders, so symlink
 * swaps are seen) and polled as a backstop; on a change all three are re-read, checked together
 * (`createSecureContext` fails on a key that does not match its certificate, e.g. half-way through
 * a rotation) and installed with `server.setSecureContext`. Connections already open keep their
 * session; new handshakes use the new material; nothing is dropped. A bad read keeps the old
 * material and is retried on the next event.
 */
import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { VouchError } from '../errors.js';
import type { Logger } from '../observability/logger.js';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA bundle client certificates must chain to; enables mTLS. */
  readonly clientCaFile?: string;
}

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  /** Hash of the three files, to notice real changes. */
  readonly fingerprint: string;
}

/** The secure context options of some material (the same at start and on reload). */
export function secureContextOptions(material: TlsMaterial): SecureContextOptions {
  return {
    cert: material.cert,
    key: material.key,
    ...(material.ca ? { ca: material.ca } : {}),
    minVersion: 'TLSv1.2',
  };
}

/**
 * Reads and checks the TLS files; throws CONFIG_INVALID naming the file at fault. When the files
 * hash to `known`'s fingerprint, `known` is returned without building a context again (the poll).
 */
export async function readTlsMaterial(files: TlsFiles, known?: TlsMaterial): Promise<TlsMaterial> {
  const read = async (file: string, what: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new VouchError(
        'CONFIG_INVALID',
        `cannot read the TLS ${what} ${file}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  };
  const [cert, key, ca] = await Promise.all([
    read(files.certFile, 'certificate'),
    read(files.keyFile, 'key'),
    files.clientCaFile ? read(files.clientCaFile, 'client CA') : Promise.resolve(undefined),
  ]);
  const fingerprint = createHash('sha256')
    .update(cert)
    .update('\0')
    .update(key)
    .update('\0')
    .update(ca ?? '')
    .digest('hex');
  if (known && known.fingerprint === fingerprint) return known;
  const material: TlsMaterial = ca ? { cert, key, ca, fingerprint } : { cert, key, fingerprint };
  try {
    createSecureContext(secureContextOptions(material));
  } catch (err) {
    throw new VouchError(
      'CONFIG_INVALID',
      `TLS material ${files.certFile} / ${files.keyFile}${files.clientCaFile ? ` / ${files.clientCaFile}` : ''} is not usable: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return material;
}

export interface TlsWatcher {
  /** The material in use. */
  current(): TlsMaterial;
  /** When the material in use was loaded. */
  loadedAt(): Date;
  /** Re-reads now (also used by tests to avoid waiting for a watch event). */
  reload(): Promise<boolean>;
  close(): void;
}

export interface WatchTlsOptions {
  readonly files: TlsFiles;
  readonly initial: TlsMaterial;
  /** Installs new material (`server.setSecureContext`). */
  readonly apply: (material: TlsMaterial) => void;
  readonly pollMs: number;
  readonly logger: Logger;
  readonly onReload?: (result: 'ok' | 'failed') => void;
  /** Reads the files (default `readTlsMaterial`; tests count the reads). */
  readonly read?: (files: TlsFiles, known: TlsMaterial) => Promise<TlsMaterial>;
}

/**
 * Whether a change seen in a watched folder can concern the TLS files: one of their names, or a
 * Kubernetes secret volume's `..data` / `..<timestamp>` swap. Other files in the same folder
 * (anything else written there, perhaps many times a second) are ignored; the poll is the backstop.
 */
export function isTlsChange(filename: string | Buffer | null, names: ReadonlySet<string>): boolean {
  if (filename === null) return true; // the platform did not say which file: assume ours
  const name = filename.toString();
  return names.has(name) || name.startsWith('..');
}

/** Watches the TLS files and applies changed material. */
export function watchTls(options: WatchTlsOptions): TlsWatcher {
  const { files, logger } = options;
  const read = options.read ?? readTlsMaterial;
  let material = options.initial;
  let loadedAt = new Date();
  let running: Promise<boolean> | undefined;
  let again = false;
  let debounce: NodeJS.Timeout | undefined;

  const reloadOnce = async (): Promise<boolean> => {
    try {
      const next = await read(files, material);
      if (next.fingerprint === material.fingerprint) return false;
      options.apply(next);
      material = next;
      loadedAt = new Date();
      logger.info({ cert: files.certFile, clientCa: files.clientCaFile }, 'TLS material reloaded');
      options.onReload?.('ok');
      return true;
    } catch (err) {
      logger.warn({ error: (err as Error).message }, 'TLS material not reloaded; keeping the previous one');
      options.onReload?.('failed');
      return false;
    }
  };
  const reload = (): Promise<boolean> => {
    if (running) {
      again = true;
      return running;
    }
    running = reloadOnce().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        void reload();
      }
    });
    return running;
  };
  const schedule = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void reload(), 50);
    debounce.unref();
  };

  const paths = [files.certFile, files.keyFile, files.clientCaFile].filter((f): f is string => !!f);
  const dirs = new Set(paths.map((f) => path.dirname(path.resolve(f))));
  const names = new Set(paths.map((f) => path.basename(f)));
  const watchers: FSWatcher[] = [];
  for (const dir of dirs) {
    try {
      const w = watch(dir, { persistent: false }, (_event, filename) => {
        if (isTlsChange(filename, names)) schedule();
      });
      w.on('error', () => {}); // the poll below still catches changes
      watchers.push(w);
    } catch (err) {
      logger.warn({ dir, error: (err as Error).message }, 'cannot watch TLS folder; polling only');
    }
  }
  const poll = setInterval(() => void reload(), options.pollMs);
  poll.unref();

  return {
    current: () => material,
    loadedAt: () => loadedAt,
    reload,
    close() {
      clearInterval(poll);
      clearTimeout(debounce);
      for (const w of watchers) w.close();
    },
  };
}
