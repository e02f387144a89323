/**
 * Loads vouch.yaml: read (size-limited), parse YAML, validate against the one schema, check
 * cross-references (every verifier a rule requires is configured). Relative paths in the file are
 * resolved against the file's folder by the trust loaders (`baseDir`).
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { VouchError } from '../errors.js';
import { configErrorFromZod } from './errors.js';
import { configSchema, type VouchConfig, type VouchConfigInput } from './schema.js';

const MAX_CONFIG_BYTES = 1024 * 1024;

export interface LoadedConfig {
  readonly config: VouchConfig;
  /** Folder that relative paths in the config are resolved against. */
  readonly baseDir: string;
  /** Where the config came from, for messages. */
  readonly source: string;
}

/** Reads and validates a vouch.yaml file. */
export async function loadConfigFile(file: string): Promise<LoadedConfig> {
  const { raw, baseDir } = await readConfigInput(file);
  return { config: validateConfig(raw, file), baseDir, source: file };
}

/** Reads and parses a vouch.yaml file without validating it (to merge flags first). */
export async function readConfigInput(file: string): Promise<{ raw: VouchConfigInput; baseDir: string }> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new VouchError('CONFIG_INVALID', `${file}: config file not found`);
  }
  if (size > MAX_CONFIG_BYTES)
    throw new VouchError('CONFIG_INVALID', `${file}: config file is larger than 1 MiB`);
  const text = await readFile(file, 'utf8');
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true, maxAliasCount: 100 });
  } catch (err) {
    throw new VouchError(
      'CONFIG_INVALID',
      `${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`,
      { cause: err },
    );
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new VouchError('CONFIG_INVALID', `${file}: the top level must be a mapping`);
  }
  return { raw: raw as VouchConfigInput, baseDir: path.dirname(path.resolve(file)) };
}

/** Validates a config object (from a file, flags or the environment). */
export function validateConfig(raw: unknown, source = 'config'): VouchConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new VouchError('CONFIG_INVALID', `${source}: the top level must be a mapping`);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw configErrorFromZod(parsed.error, source);
  const config = parsed.data;
  const problems: string[] = [];
  config.policy.rules.forEach((rule, i) => {
    rule.require.forEach((q, j) => {
      if (
        // own keys only: `in` would find "constructor" and "toString" on the prototype
        !Object.hasOwn(config.verifiers, q.verifier) ||
        config.verifiers[q.verifier as keyof typeof config.verifiers] === undefined
      ) {
        problems.push(
          `policy.rules[${i}].require[${j}].verifier: verifier "${q.verifier}" is not configured (add verifiers.${q.verifier})`,
        );
      }
    });
  });
  if (problems.length > 0)
    throw new VouchError('CONFIG_INVALID', `${source}: ${problems.join('; ')}`, { details: { problems } });
  return config;
}

/** Deep-merges `override` onto `base` (objects merge, arrays and scalars replace). */
export function mergeConfig(base: VouchConfigInput, override: VouchConfigInput): VouchConfigInput {
  return deepMerge(base, override) as VouchConfigInput;
}

function deepMerge(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (isPlainObject(a) && isPlainObject(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = deepMerge(a[k], v);
    return out;
  }
  return b;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
