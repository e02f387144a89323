/**
 * Distinguished names in trusted identities (`x509.subject: C=US, ST=WA, O=acme`), per
 * specs/trust-store-trust-policy.md "Trusted Identities Constraints": comma-separated RDNs, `\`
 * escapes `,`, `;`, `\` and edge spaces; C, ST (or S) and O are required; a certificate matches
 * when every attribute of the identity equals the same attribute of its subject (order ignored).
 */

/** Attribute type -> value, with types upper-cased and `S` folded into `ST`. */
export type DistinguishedName = ReadonlyMap<string, string>;

/** Parses an identity DN; returns an error sentence instead of throwing. */
export function parseDistinguishedName(text: string): DistinguishedName | { error: string } {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === undefined) return { error: `"${text}" ends with a lone backslash` };
      current += `\\${next}`;
      i++;
    } else if (ch === ',' || ch === ';' || ch === '+') {
      if (ch === '+') return { error: `multi-valued RDNs ("+") are not supported in "${text}"` };
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  const dn = new Map<string, string>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) return { error: `"${part.trim()}" is not an attribute=value pair` };
    let type = part.slice(0, eq).trim().toUpperCase();
    if (type === 'S') type = 'ST';
    if (!/^[A-Z][A-Z0-9-]*$|^\d+(\.\d+)+$/.test(type)) return { error: `"${type}" is not an attribute type` };
    const rawValue = part.slice(eq + 1).replace(/^\s+/, '');
    // trailing unescaped spaces are insignificant
    let value = '';
    let trailing = '';
    for (let i = 0; i < rawValue.length; i++) {
      const ch = rawValue[i] as string;
      if (ch === '\\') {
        value += trailing + (rawValue[i + 1] ?? '');
        trailing = '';
        i++;
      } else if (ch === ' ') {
        trailing += ch;
      } else {
        value += trailing + ch;
        trailing = '';
      }
    }
    if (value === '') return { error: `attribute ${type} has an empty value` };
    if (dn.has(type)) return { error: `attribute ${type} appears more than once` };
    dn.set(type, value);
  }
  return dn;
}

/** True when every attribute of `identity` is present in `subject` with the same value. */
export function isSubsetDn(
  identity: DistinguishedName,
  subject: ReadonlyMap<string, readonly string[]>,
): boolean {
  for (const [type, value] of identity) {
    const values = subject.get(type);
    if (!values?.includes(value)) return false;
  }
  return true;
}

/** Formats a parsed DN for messages. */
export function formatDn(dn: DistinguishedName): string {
  return [...dn].map(([k, v]) => `${k}=${v}`).join(', ');
}
