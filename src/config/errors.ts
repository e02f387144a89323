/** Turns schema issues into messages that name the path and the problem. */
import type { z } from 'zod';
import { VouchError } from '../errors.js';

/** `verifiers.notation.trustStores.ca[0]` style path. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(top level)';
}

export function configErrorFromZod(error: z.ZodError, source: string, prefix = ''): VouchError {
  const lines = error.issues.map((i) => {
    const keys = (i as { keys?: string[] }).keys;
    const what =
      i.code === 'unrecognized_keys' && keys
        ? `unknown field(s) ${keys.map((k) => `"${k}"`).join(', ')}`
        : i.message;
    return `${formatPath(i.path, prefix)}: ${what}`;
  });
  return new VouchError('CONFIG_INVALID', `${source}: ${lines.join('; ')}`, { details: { problems: lines } });
}
