/**
 * Reading and writing detached signature files (format.ts says what is in them). A path given to
 * `--signature-path` is a signature file or a directory of them (not recursive); a companion
 * (PATH.json, PATH.payload) is read with its signature and never on its own.
 */
import { lstat, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VouchError } from '../errors.js';
import {
  DESCRIPTOR_SUFFIX,
  type DetachedFile,
  type DetachedSignature,
  decodeDetachedSignature,
  isNotationDescriptor,
  PAYLOAD_SUFFIX,
} from './format.js';

/** Largest signature, bundle, payload or descriptor file read (as for a registry's signature blob). */
export const MAX_SIGNATURE_FILE_BYTES = 4 * 1024 * 1024;
/** Most signatures read from all the paths together (as discovery bounds attached artifacts). */
export const MAX_SIGNATURE_FILES = 64;

/** Writes the files of one detached signature. */
export async function writeDetachedFiles(files: readonly DetachedFile[]): Promise<void> {
  for (const f of files) {
    try {
      await writeFile(f.path, f.bytes);
    } catch (err) {
      throw new VouchError('USAGE', `--output-signature: cannot write ${f.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

/**
 * Reads every signature the paths name. A missing path, an unreadable or oversized file, or a
 * file that is not a signature is a USAGE error naming it: nothing is skipped silently.
 */
export async function readDetachedSignatures(paths: readonly string[]): Promise<DetachedSignature[]> {
  const primaries: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    if (!s) throw new VouchError('USAGE', `--signature-path ${p}: no such file or directory`);
    if (s.isDirectory()) {
      const names = (await readdir(p)).filter((n) => !n.startsWith('.')).sort();
      const files: string[] = [];
      for (const n of names) {
        const full = join(p, n);
        if ((await lstat(full)).isFile()) files.push(full);
      }
      const set = new Set(files);
      for (const f of files) if (!(await isCompanion(f, set))) primaries.push(f);
      if (files.length === 0)
        throw new VouchError('USAGE', `--signature-path ${p}: the directory has no files`);
    } else if (s.isFile()) {
      primaries.push(await primaryOf(p));
    } else {
      throw new VouchError('USAGE', `--signature-path ${p}: not a file or directory`);
    }
  }
  const unique = [...new Set(primaries)];
  if (unique.length > MAX_SIGNATURE_FILES)
    throw new VouchError(
      'USAGE',
      `--signature-path: ${unique.length} signatures, at most ${MAX_SIGNATURE_FILES}`,
    );
  return Promise.all(
    unique.map(async (path) => {
      const json = await readOptional(path + DESCRIPTOR_SUFFIX);
      const descriptor = json && isNotationDescriptor(json) ? json : undefined;
      const payload = await readOptional(path + PAYLOAD_SUFFIX);
      return decodeDetachedSignature(path, await readBounded(path), {
        ...(descriptor ? { descriptor } : {}),
        ...(payload ? { payload } : {}),
      });
    }),
  );
}

/** A companion named directly (sig.json, sig.payload) stands for its signature file. */
async function primaryOf(path: string): Promise<string> {
  for (const suffix of [DESCRIPTOR_SUFFIX, PAYLOAD_SUFFIX]) {
    if (!path.endsWith(suffix)) continue;
    const primary = path.slice(0, -suffix.length);
    if (primary && (await isFile(primary)) && (await isCompanion(path, new Set([primary])))) return primary;
  }
  return path;
}

/** True when `file` is the PATH.json / PATH.payload of a signature file among `files`. */
async function isCompanion(file: string, files: ReadonlySet<string>): Promise<boolean> {
  if (file.endsWith(PAYLOAD_SUFFIX)) return files.has(file.slice(0, -PAYLOAD_SUFFIX.length));
  if (file.endsWith(DESCRIPTOR_SUFFIX) && files.has(file.slice(0, -DESCRIPTOR_SUFFIX.length))) {
    // a bundle named x.json next to a file x is a signature of its own, not x's descriptor
    return isNotationDescriptor(await readBounded(file));
  }
  return false;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  return (await isFile(path)) ? readBounded(path) : undefined;
}

async function readBounded(path: string): Promise<Uint8Array> {
  const s = await stat(path).catch(() => undefined);
  if (!s?.isFile()) throw new VouchError('USAGE', `--signature-path ${path}: no such file`);
  if (s.size > MAX_SIGNATURE_FILE_BYTES)
    throw new VouchError(
      'USAGE',
      `--signature-path ${path}: ${s.size} bytes, more than the ${MAX_SIGNATURE_FILE_BYTES} a signature may have`,
    );
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    throw new VouchError('USAGE', `--signature-path ${path}: unreadable (${(err as Error).message})`, {
      cause: err,
    });
  }
}
