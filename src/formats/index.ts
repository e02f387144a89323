/**
 * The formats vouch knows, in the order config sections, flags and verifiers are listed. Config
 * (src/config/schema.ts), the runtime (src/config/runtime.ts), the CLI (src/cli/trust-options.ts,
 * src/cli/sign.ts) and docs/configuration.md walk this list; a new format is one line here.
 */
import { atprotoFormat } from './atproto.js';
import { cosignFormat } from './cosign.js';
import { notationFormat } from './notation.js';
import { sbomFormat } from './sbom.js';
import type { FormatDescriptor } from './types.js';
import { vulnerabilityReportFormat } from './vulnerability-report.js';

export const FORMATS = [
  notationFormat,
  cosignFormat,
  atprotoFormat,
  vulnerabilityReportFormat,
  sbomFormat,
] as const;

/** The same list typed by the common descriptor, for code that walks it without each format's types. */
export const FORMAT_LIST: readonly FormatDescriptor[] = FORMATS;

/** The format of that name (a `verifiers:` key, a `--format`), if there is one. */
export function formatNamed(name: string): FormatDescriptor | undefined {
  return FORMAT_LIST.find((f) => f.name === name);
}

export type { FormatDescriptor } from './types.js';
