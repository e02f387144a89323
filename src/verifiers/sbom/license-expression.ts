/**
 * The licence ids inside an SPDX licence expression (SPDX 2.3 annex D): `MIT`,
 * `(MPL-2.0 AND MIT)`, `GPL-2.0-or-later WITH Classpath-exception-2.0`, `Apache-2.0+`.
 * Operators and parentheses are dropped; exception ids after WITH are not licences.
 * `NOASSERTION` and `NONE` say nothing about a licence and yield no id.
 */
const OPERATORS = new Set(['AND', 'OR']);
const NO_LICENCE = new Set(['NOASSERTION', 'NONE', '']);

export function licenseIds(expression: string): string[] {
  const tokens = expression.replace(/[()]/g, ' ').split(/\s+/).filter(Boolean);
  const ids: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    const upper = token.toUpperCase();
    if (upper === 'WITH') {
      i++; // the exception id that follows
      continue;
    }
    if (OPERATORS.has(upper) || NO_LICENCE.has(upper)) continue;
    ids.push(token.endsWith('+') ? token.slice(0, -1) : token);
  }
  return ids;
}
