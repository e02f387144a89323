/**
 * What an import produces: a vouch.yaml body (plain data the one config schema validates), the
 * comments that explain it, the trust-material files it names (inline certificates and keys have
 * no other home: vouch.yaml names key and certificate files), and the constructs it could not carry
 * over. Importers fill an {@link ImportBuilder}; the CLI and `--ratify-config` render or write it.
 */
import path from 'node:path';
import { VouchError } from '../errors.js';

/** A path into the generated config: keys and list indexes, as the yaml library takes them. */
export type ConfigPath = ReadonlyArray<string | number>;

/** One comment placed above a field of the generated config. */
export interface ImportNote {
  readonly at: ConfigPath;
  readonly text: string;
}

/** A construct of the source that vouch cannot express, named by where it is in the source. */
export interface Unsupported {
  /** Where in the source, e.g. `config.json: verifier.plugins[2] (licensechecker)`. */
  readonly field: string;
  /** Why, and what to do instead. */
  readonly reason: string;
}

/** A trust-material file the config names, written beside the generated vouch.yaml. */
export interface MaterialFile {
  /** File name relative to the config's folder. */
  readonly name: string;
  readonly content: string;
}

export interface ImportResult {
  /** The vouch.yaml body; paths are relative to `outDir` (or absolute outside it). */
  readonly config: Record<string, unknown>;
  /** Lines for the top of the file. */
  readonly header: readonly string[];
  readonly notes: readonly ImportNote[];
  readonly files: readonly MaterialFile[];
  readonly unsupported: readonly Unsupported[];
  /** Things that map but behave differently; printed as warnings. */
  readonly warnings: readonly string[];
}

/** Collects an import as it is made. `outDir` is the folder the vouch.yaml will live in. */
export class ImportBuilder {
  readonly config: Record<string, unknown> = { version: 1 };
  readonly header: string[] = [];
  readonly notes: ImportNote[] = [];
  readonly files: MaterialFile[] = [];
  readonly unsupported: Unsupported[] = [];
  readonly warnings: string[] = [];
  readonly #outDir: string;

  constructor(outDir: string) {
    this.#outDir = path.resolve(outDir);
  }

  note(at: ConfigPath, text: string): void {
    this.notes.push({ at, text });
  }

  warn(text: string): void {
    this.warnings.push(text);
  }

  unsupportedField(field: string, reason: string): void {
    this.unsupported.push({ field, reason });
  }

  /** A path as vouch.yaml writes it: relative to its folder when inside it, else absolute. */
  configPath(absolute: string): string {
    const rel = path.relative(this.#outDir, absolute);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : absolute;
  }

  /** Adds a material file under a unique, file-system-safe name; returns the name vouch.yaml uses. */
  material(base: string, extension: string, content: string): string {
    const safe = base.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '') || 'material';
    let name = `${safe}${extension}`;
    for (let i = 2; this.files.some((f) => f.name === name); i++) name = `${safe}-${i}${extension}`;
    this.files.push({ name, content: content.endsWith('\n') ? content : `${content}\n` });
    return name;
  }

  result(): ImportResult {
    return {
      config: this.config,
      header: this.header,
      notes: this.notes,
      files: this.files,
      unsupported: this.unsupported,
      warnings: this.warnings,
    };
  }
}

/** The error an import with unsupported constructs fails with (unless partial imports are allowed). */
export function unsupportedError(source: string, unsupported: readonly Unsupported[]): VouchError {
  const list = unsupported.map((u) => `${u.field}: ${u.reason}`);
  return new VouchError(
    'CONFIG_INVALID',
    `${source}: ${unsupported.length} construct(s) vouch cannot express (--allow-partial imports the rest):\n  - ${list.join('\n  - ')}`,
    { details: { unsupported } },
  );
}

/** Reads `v` as a plain object, or undefined. */
export function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** Reads `v` as a list of non-empty strings: a list, or Ratify's comma-separated string. */
export function asStringList(v: unknown): string[] {
  if (typeof v === 'string')
    return v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  if (Array.isArray(v)) return v.filter((s): s is string => typeof s === 'string' && s !== '');
  return [];
}
