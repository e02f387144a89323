/**
 * `WWW-Authenticate` parsing (RFC 7235 § 4.1; distribution token auth spec
 * `docs/spec/auth/token.md`): `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.
 */

export interface Challenge {
  readonly scheme: 'basic' | 'bearer';
  readonly params: Readonly<Record<string, string>>;
}

/** Parses the first Basic or Bearer challenge of a header value; undefined when there is none. */
export function parseChallenge(value: string | undefined): Challenge | undefined {
  if (!value) return undefined;
  const re =
    /([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?:\s+|$)((?:[A-Za-z0-9!#$%&'*+.^_`|~-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?\s*)*)/g;
  for (const m of value.matchAll(re)) {
    const scheme = m[1]?.toLowerCase();
    if (scheme !== 'basic' && scheme !== 'bearer') continue;
    const params: Record<string, string> = {};
    const paramRe = /([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
    for (const p of (m[2] ?? '').matchAll(paramRe)) {
      const name = p[1]?.toLowerCase();
      if (name) params[name] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
    }
    return { scheme, params };
  }
  return undefined;
}

/** `repository:<name>:<actions>` (distribution `docs/spec/auth/scope.md`). */
export function repositoryScope(repository: string, actions: readonly string[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}

/** Merges scope strings, uniting the actions of the same resource. Sorted, for cache keys. */
export function mergeScopes(scopes: readonly string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const scope of scopes.flatMap((s) => s.split(' ')).filter(Boolean)) {
    const colon = scope.lastIndexOf(':');
    const resource = colon > 0 ? scope.slice(0, colon) : scope;
    const actions =
      colon > 0
        ? scope
            .slice(colon + 1)
            .split(',')
            .filter(Boolean)
        : [];
    const set = byResource.get(resource) ?? new Set<string>();
    for (const a of actions) set.add(a);
    byResource.set(resource, set);
  }
  return [...byResource.entries()].map(([r, a]) => `${r}:${[...a].sort().join(',')}`).sort();
}
