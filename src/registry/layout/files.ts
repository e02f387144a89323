/**
 * File I/O of an OCI image layout (image-spec 1.1 `image-layout.md`): bounded reads, atomic
 * writes (temp file + rename, so a reader never sees half a file), and creating a layout.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createKeyedQueue } from '../../concurrency.js';
import { VouchError } from '../../errors.js';
import { MediaType } from '../types.js';

/** The `oci-layout` file every layout has (image-layout.md § oci-layout file). */
export const LAYOUT_FILE = 'oci-layout';
export const INDEX_FILE = 'index.json';
export const LAYOUT_VERSION = '1.0.0';

/** True when `err` is a Node file-system error with code ENOENT (or ENOTDIR). */
export function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Reads a whole file, refusing more than `maxBytes` (checked on the open handle's size and
 * while reading, so a file growing underneath cannot slip past). Throws the fs error on ENOENT.
 */
export async function readBounded(
  path: string,
  maxBytes: number,
  what: string,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  signal?.throwIfAborted();
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) {
      throw new VouchError(
        'CONTENT_TOO_LARGE',
        `${what} is ${size} bytes, more than the limit of ${maxBytes}`,
        {
          details: { size, limit: maxBytes },
        },
      );
    }
    const buffer = new Uint8Array(size);
    let offset = 0;
    while (offset < size) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, offset, size - offset, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return offset === size ? buffer : buffer.subarray(0, offset);
  } finally {
    await handle.close();
  }
}

/** Writes `bytes` to `path` through a sibling temp file and a rename (atomic on POSIX). */
export async function writeAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, bytes, { flag: 'wx' });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

/**
 * Creates an empty layout at `dir` when it has none (image-layout.md: `oci-layout`,
 * `index.json`, `blobs/`). An existing layout is left untouched.
 */
export async function ensureLayout(dir: string): Promise<void> {
  await mkdir(join(dir, 'blobs'), { recursive: true });
  if (!(await exists(join(dir, LAYOUT_FILE)))) {
    await writeAtomic(join(dir, LAYOUT_FILE), JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION }));
  }
  if (!(await exists(join(dir, INDEX_FILE)))) {
    await writeAtomic(
      join(dir, INDEX_FILE),
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] }),
    );
  }
}

/**
 * Runs `task` after every earlier task for the same `key` settled: index.json updates within
 * one process are serialized (read-modify-write). Separate processes writing the same layout
 * at once can still lose an update; each write is atomic, so the file is never torn.
 */
export const serialized = createKeyedQueue();
