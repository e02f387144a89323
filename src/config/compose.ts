/**
 * Composes the effective configuration from its sources: flags over the file over defaults
 * (the server adds the environment between flags and file). One schema validates the result.
 */
import { VouchError } from '../errors.js';
import { configFromFlags, policyForFlags, type TrustFlags } from './flags.js';
import { type LoadedConfig, mergeConfig, readConfigInput, validateConfig } from './load.js';
import type { VouchConfigInput } from './schema.js';

export interface ComposeOptions {
  /** vouch.yaml path, when given. */
  readonly configFile?: string;
  /** Trust flags (`--notation-dir`, `--key`, `--atproto-policy`, …). */
  readonly flags?: TrustFlags;
  /** A fragment applied between the file and the flags (the server's environment variables). */
  readonly environment?: VouchConfigInput;
  /** Working directory for a config given only by flags. */
  readonly cwd?: string;
}

export async function composeConfig(options: ComposeOptions): Promise<LoadedConfig> {
  let raw: VouchConfigInput = {};
  let baseDir = options.cwd ?? process.cwd();
  if (options.configFile) {
    const file = await readConfigInput(options.configFile);
    raw = file.raw;
    baseDir = file.baseDir;
  }
  if (options.environment) raw = mergeConfig(raw, options.environment);
  const { fragment, verifierNames } = configFromFlags(options.flags ?? {});
  raw = mergeConfig(raw, fragment);
  const hasRules = (raw.policy?.rules?.length ?? 0) > 0;
  if (!hasRules) {
    const configured = Object.entries(raw.verifiers ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k]) => k);
    const names = [...new Set([...configured, ...verifierNames])];
    if (names.length === 0) {
      throw new VouchError(
        'USAGE',
        'no trust material: give --config FILE, or --notation-dir DIR, --key FILE or --atproto-policy FILE',
      );
    }
    raw = { ...raw, policy: { ...(raw.policy ?? {}), ...policyForFlags(names) } };
  }
  const source = options.configFile ?? 'command line';
  return { config: validateConfig(raw, source), baseDir, source };
}
