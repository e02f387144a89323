/**
 * Image scope patterns used by policy rules: matched against the normalized image name
 * `registry/repository` (no tag or digest).
 *
 * - `*` alone matches every image.
 * - `*` inside a pattern matches any run of characters except `/` (one path segment or part of one).
 * - `**` matches any run of characters including `/`.
 * - everything else matches literally.
 *
 * Specificity orders rules "most specific first": an exact pattern beats any wildcard; then more
 * literal characters win; then fewer wildcards.
 */

export interface CompiledScope {
  readonly pattern: string;
  readonly regex: RegExp;
  /** Higher is more specific. */
  readonly specificity: number;
}

export function compileScope(pattern: string): CompiledScope {
  if (pattern === '*' || pattern === '**') return { pattern, regex: /^.*$/s, specificity: 0 };
  let source = '';
  let literal = 0;
  let wildcards = 0;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') {
      wildcards++;
      if (pattern[i + 1] === '*') {
        source += '.*';
        i++;
      } else {
        source += '[^/]*';
      }
    } else {
      literal++;
      source += ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  const specificity = wildcards === 0 ? 1_000_000 + literal : literal * 100 - wildcards;
  return { pattern, regex: new RegExp(`^${source}$`), specificity };
}

export function scopeMatches(scope: CompiledScope, imageName: string): boolean {
  return scope.regex.test(imageName);
}
