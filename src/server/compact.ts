/**
 * Compact copies of what the server keeps in its in-process cache (docs/performance.md, "(d)
 * Memory"). A decision as the engine returns it is built from strings cut out of larger ones
 * (V8 keeps a sliced or concatenated string's parent alive), objects grown property by property,
 * and the same words over and over (repository names, media types, verifier names, reasons, a
 * signer's subject in every one of its signatures). A JSON round trip gives flat strings and
 * tightly laid-out objects, and its reviver shares equal strings through a small intern table.
 *
 * The copy is what a Redis layer would hand back anyway (values are JSON there), so it changes no
 * meaning: cached values are treated as immutable by every reader.
 */

/** Strings longer than this are not interned (they are rarely repeated and would fill the table). */
const MAX_INTERNED_LENGTH = 256;
/** Entries in the intern table before it is emptied (bounds what it keeps alive on its own). */
const MAX_INTERNED = 4096;

const interned = new Map<string, string>();

/** One shared copy of `s` while the table holds it (the table is emptied when full). */
export function intern(s: string): string {
  if (s.length > MAX_INTERNED_LENGTH) return s;
  const shared = interned.get(s);
  if (shared !== undefined) return shared;
  if (interned.size >= MAX_INTERNED) interned.clear();
  interned.set(s, s);
  return s;
}

const reviver = (_key: string, value: unknown): unknown =>
  typeof value === 'string' ? intern(value) : value;

/**
 * A compact deep copy of a JSON-safe value: flat strings (no parent kept alive), equal short
 * strings shared, objects with their properties laid out at once. Values that are not JSON-safe
 * come back as JSON would make them, as from the Redis cache.
 */
export function compactValue<T>(value: T): T {
  const json = JSON.stringify(value);
  return json === undefined ? value : (JSON.parse(json, reviver) as T);
}
