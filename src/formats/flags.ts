/**
 * Reading flag values (src/formats/types.ts `FlagValues`) in a format's `toConfig`: commander
 * gives strings, numbers, booleans and lists; anything else counts as not given.
 */
import path from 'node:path';
import type { FlagValues } from './types.js';

/** A non-empty string value, else undefined. */
export function flagText(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A repeatable flag's values (empty when not given). */
export function flagList(values: FlagValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v.filter((e): e is string => typeof e === 'string') : [];
}

/** A boolean flag: true only when given. */
export function flagSet(values: FlagValues, name: string): boolean {
  return values[name] === true;
}

/** A path from the command line, made absolute against the working directory. */
export const absolute = (p: string): string => path.resolve(p);

/** commander's attribute name of a flag: `--certificate-oidc-issuer <url>` → `certificateOidcIssuer`. */
export function attributeName(flag: string): string {
  const long = flag.split(/[ ,|]+/).find((part) => part.startsWith('--')) ?? flag;
  return long.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
