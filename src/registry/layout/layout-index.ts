/**
 * Reading and writing a layout's `oci-layout` marker and `index.json` (image-spec 1.1
 * `image-layout.md` § oci-layout file, § index.json file). A missing or malformed layout gives
 * LAYOUT_INVALID naming the file and what is wrong with it.
 */
import { join } from 'node:path';
import { isVouchError, VouchError } from '../../errors.js';
import { parseDescriptor } from '../manifest.js';
import { type Descriptor, MediaType } from '../types.js';
import { exists, INDEX_FILE, isMissing, LAYOUT_FILE, readBounded, writeAtomic } from './files.js';

/** Largest index.json read (it lists every tag and artifact of the layout). */
const MAX_INDEX_BYTES = 16 * 1024 * 1024;
const MAX_LAYOUT_FILE_BYTES = 64 * 1024;

/** index.json as read: the raw object (unknown fields kept on rewrite) and its validated entries. */
export interface LayoutIndex {
  readonly raw: Record<string, unknown>;
  entries: Array<{ readonly descriptor: Descriptor; readonly raw: Record<string, unknown> }>;
}

function invalid(dir: string, message: string, cause?: unknown): VouchError {
  return new VouchError('LAYOUT_INVALID', `${dir} is not a valid OCI image layout: ${message}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { dir },
  });
}

async function readJson(dir: string, file: string, limit: number, signal?: AbortSignal): Promise<unknown> {
  let bytes: Uint8Array;
  try {
    bytes = await readBounded(join(dir, file), limit, `${file} of ${dir}`, signal);
  } catch (err) {
    if (isMissing(err)) {
      const why = (await exists(dir)) ? `${file} is missing` : 'the directory does not exist';
      throw invalid(dir, why, err);
    }
    if (isVouchError(err, 'CONTENT_TOO_LARGE')) throw invalid(dir, err.message, err);
    throw err;
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw invalid(dir, `${file} is not valid JSON`, err);
  }
}

/** Checks `oci-layout` (image-layout.md: `imageLayoutVersion`, "1.0.0"; any 1.x accepted). */
async function checkLayoutFile(dir: string, signal?: AbortSignal): Promise<void> {
  const marker = await readJson(dir, LAYOUT_FILE, MAX_LAYOUT_FILE_BYTES, signal);
  const version = (marker as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
  if (typeof version !== 'string') throw invalid(dir, `${LAYOUT_FILE} has no imageLayoutVersion string`);
  if (!/^1\.\d+\.\d+$/.test(version)) {
    throw invalid(dir, `${LAYOUT_FILE} has imageLayoutVersion ${version}; vouch reads 1.x layouts`);
  }
}

/** Reads and validates `oci-layout` and `index.json` of the layout at `dir`. */
export async function readLayoutIndex(dir: string, signal?: AbortSignal): Promise<LayoutIndex> {
  await checkLayoutFile(dir, signal);
  const json = await readJson(dir, INDEX_FILE, MAX_INDEX_BYTES, signal);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw invalid(dir, `${INDEX_FILE} is not a JSON object`);
  }
  const raw = json as Record<string, unknown>;
  if (raw.schemaVersion !== 2)
    throw invalid(dir, `${INDEX_FILE} has schemaVersion ${JSON.stringify(raw.schemaVersion)}, not 2`);
  if (raw.mediaType !== undefined && raw.mediaType !== MediaType.OciIndex) {
    throw invalid(
      dir,
      `${INDEX_FILE} has mediaType ${JSON.stringify(raw.mediaType)}, not ${MediaType.OciIndex}`,
    );
  }
  if (!Array.isArray(raw.manifests)) throw invalid(dir, `${INDEX_FILE} has no "manifests" array`);
  const entries = raw.manifests.map((entry: unknown, i: number) => {
    try {
      return {
        descriptor: parseDescriptor(entry, `${INDEX_FILE} manifests[${i}]`),
        raw: entry as Record<string, unknown>,
      };
    } catch (err) {
      throw invalid(dir, (err as Error).message, err);
    }
  });
  return { raw, entries };
}

/** Rewrites index.json atomically with `index.entries`, keeping its other fields. */
export async function writeLayoutIndex(dir: string, index: LayoutIndex): Promise<void> {
  const body = {
    ...index.raw,
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: index.entries.map((e) => e.raw),
  };
  await writeAtomic(join(dir, INDEX_FILE), JSON.stringify(body));
}
