/**
 * The trust flags `vouch verify` and `vouch serve` share, turned into a config fragment so that
 * flags and vouch.yaml go through the one schema and the one loader. Each format declares its own
 * flags and the section they make (src/formats/); paths become absolute there (flags are relative
 * to the working directory, the file's paths to the file's folder).
 */
import { FORMAT_LIST } from '../formats/index.js';
import type { FlagValues } from '../formats/types.js';
import type { VouchConfigInput } from './schema.js';

/** The flag values by commander's attribute name (`notationDir`, `key`, `atprotoPolicy`, …). */
export type TrustFlags = FlagValues & {
  /** `--insecure-registry`: hosts reached over plain HTTP. */
  readonly insecureRegistry?: readonly string[];
};

/** The config fragment the flags describe; `verifierNames` lists the verifiers they configure. */
export function configFromFlags(flags: TrustFlags): { fragment: VouchConfigInput; verifierNames: string[] } {
  const verifiers: Record<string, unknown> = {};
  for (const format of FORMAT_LIST) {
    const section = format.flags?.toConfig(flags);
    if (section !== undefined) verifiers[format.name] = section;
  }
  const fragment: Record<string, unknown> = {};
  if (Object.keys(verifiers).length > 0) fragment.verifiers = verifiers;
  if (flags.insecureRegistry?.length) fragment.registries = { insecure: [...flags.insecureRegistry] };
  return { fragment: fragment as VouchConfigInput, verifierNames: Object.keys(verifiers) };
}

/**
 * The policy used when the flags configure verifiers and no config file gives rules:
 * every image must carry a verified artifact of every verifier the flags configure.
 */
export function policyForFlags(verifierNames: readonly string[]): VouchConfigInput['policy'] {
  return {
    default: 'deny',
    rules: [
      {
        name: 'command-line',
        scope: '*',
        mode: 'enforce',
        match: 'all',
        require: verifierNames.map((verifier) => ({ verifier, artifacts: 'any' as const })),
      },
    ],
  };
}
