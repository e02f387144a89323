/**
 * notation's OCI trust policy document (`trustpolicy.json`, version 1.0), validated when loaded, and
 * the statement selection and verification levels of specs/trust-store-trust-policy.md.
 */
import { VouchError } from '../../errors.js';
import { type DistinguishedName, formatDn, isSubsetDn, parseDistinguishedName } from './dn.js';

export type VerificationCheck = 'integrity' | 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation';
export type CheckAction = 'enforce' | 'log' | 'skip';
export type VerificationLevelName = 'strict' | 'permissive' | 'audit' | 'skip';
export type StoreType = 'ca' | 'signingAuthority' | 'tsa';
export const STORE_TYPES: readonly StoreType[] = ['ca', 'signingAuthority', 'tsa'];

/** One trust policy statement after validation. */
export interface TrustPolicyStatement {
  readonly name: string;
  readonly registryScopes: readonly string[];
  readonly level: VerificationLevelName;
  /** Resolved action per check (level defaults with overrides applied). */
  readonly actions: Readonly<Record<VerificationCheck, CheckAction>>;
  readonly verifyTimestamp: 'always' | 'afterCertExpiry';
  readonly trustStores: ReadonlyArray<{ readonly type: StoreType; readonly name: string }>;
  /** `'*'` for any identity, else the parsed `x509.subject` DNs. */
  readonly trustedIdentities: '*' | readonly DistinguishedName[];
  /** The statement as written (for reports and hashing). */
  readonly source: Readonly<Record<string, unknown>>;
}

export interface TrustPolicyDocument {
  readonly version: '1.0';
  readonly statements: readonly TrustPolicyStatement[];
}

/** Level defaults: specs/trust-store-trust-policy.md "Signature Verification details" table. */
const LEVELS: Readonly<Record<VerificationLevelName, Readonly<Record<VerificationCheck, CheckAction>>>> = {
  strict: {
    integrity: 'enforce',
    authenticity: 'enforce',
    authenticTimestamp: 'enforce',
    expiry: 'enforce',
    revocation: 'enforce',
  },
  permissive: {
    integrity: 'enforce',
    authenticity: 'enforce',
    authenticTimestamp: 'log',
    expiry: 'log',
    revocation: 'log',
  },
  audit: {
    integrity: 'enforce',
    authenticity: 'log',
    authenticTimestamp: 'log',
    expiry: 'log',
    revocation: 'log',
  },
  skip: {
    integrity: 'skip',
    authenticity: 'skip',
    authenticTimestamp: 'skip',
    expiry: 'skip',
    revocation: 'skip',
  },
};

const OVERRIDABLE: Readonly<Record<string, readonly CheckAction[]>> = {
  authenticity: ['enforce', 'log'],
  authenticTimestamp: ['enforce', 'log'],
  expiry: ['enforce', 'log'],
  revocation: ['enforce', 'log', 'skip'],
};

const STORE_NAME = /^[a-zA-Z0-9_.-]+$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown): string => JSON.stringify(v) ?? String(v);

/**
 * Validates a trust policy document. Errors name the field, prefixed by `path`
 * (e.g. `verifiers.notation.trustPolicy.trustPolicies[0].signatureVerification.level: unknown level "strictt"`).
 */
export function parseTrustPolicy(doc: unknown, path: string): TrustPolicyDocument {
  const fail = (field: string, problem: string): never => {
    throw new VouchError('CONFIG_INVALID', `${path}${field}: ${problem}`);
  };
  if (!isObject(doc)) return fail('', 'must be a JSON object with version and trustPolicies');
  if (doc.version !== '1.0') fail('.version', `must be "1.0" (got ${describe(doc.version)})`);
  for (const key of Object.keys(doc))
    if (key !== 'version' && key !== 'trustPolicies') fail(`.${key}`, 'unknown field');
  if (!Array.isArray(doc.trustPolicies) || doc.trustPolicies.length === 0)
    fail('.trustPolicies', 'must be a non-empty array');
  const statements: TrustPolicyStatement[] = [];
  const names = new Set<string>();
  const scopes = new Map<string, string>();
  for (const [i, raw] of (doc.trustPolicies as unknown[]).entries()) {
    const at = `.trustPolicies[${i}]`;
    if (!isObject(raw)) return fail(at, 'must be an object');
    for (const key of Object.keys(raw)) {
      if (
        !['name', 'registryScopes', 'signatureVerification', 'trustStores', 'trustedIdentities'].includes(key)
      )
        fail(`${at}.${key}`, 'unknown field');
    }
    const name = raw.name;
    if (typeof name !== 'string' || name.trim() === '')
      return fail(`${at}.name`, 'must be a non-empty string');
    if (names.has(name)) fail(`${at}.name`, `duplicate statement name "${name}"`);
    names.add(name);
    const rs = raw.registryScopes;
    if (!Array.isArray(rs) || rs.length === 0 || !rs.every((s) => typeof s === 'string' && s !== '')) {
      return fail(`${at}.registryScopes`, 'must be a non-empty array of repository names or ["*"]');
    }
    const registryScopes = rs as string[];
    if (registryScopes.includes('*') && registryScopes.length > 1)
      fail(`${at}.registryScopes`, '"*" must be the only scope of its statement');
    registryScopes.forEach((scope, j) => {
      if (
        scope !== '*' &&
        (scope.includes('*') ||
          !scope.includes('/') ||
          /[\s@]/.test(scope) ||
          /:[^/]*$/.test(scope.split('/').slice(1).join('/')))
      ) {
        fail(
          `${at}.registryScopes[${j}]`,
          `"${scope}" must be a fully qualified repository (registry/namespace/repository) or "*"`,
        );
      }
      const other = scopes.get(scope);
      if (other !== undefined)
        fail(`${at}.registryScopes[${j}]`, `scope "${scope}" is already used by statement "${other}"`);
      scopes.set(scope, name);
    });
    const sv = raw.signatureVerification;
    if (!isObject(sv)) return fail(`${at}.signatureVerification`, 'must be an object with a level');
    for (const key of Object.keys(sv)) {
      if (!['level', 'override', 'verifyTimestamp'].includes(key))
        fail(`${at}.signatureVerification.${key}`, 'unknown field');
    }
    const level = sv.level;
    // Own keys only: `in` also finds "constructor", "toString"… on the prototype, and a level named
    // so would resolve to no actions at all (every check neither enforced nor logged).
    if (typeof level !== 'string' || !Object.hasOwn(LEVELS, level)) {
      return fail(
        `${at}.signatureVerification.level`,
        `unknown level ${describe(level)} (strict, permissive, audit or skip)`,
      );
    }
    const levelName = level as VerificationLevelName;
    const actions: Record<VerificationCheck, CheckAction> = { ...LEVELS[levelName] };
    if (sv.override !== undefined) {
      if (levelName === 'skip')
        fail(`${at}.signatureVerification.override`, 'the skip level cannot be customized');
      if (!isObject(sv.override)) return fail(`${at}.signatureVerification.override`, 'must be an object');
      for (const [check, action] of Object.entries(sv.override)) {
        if (check === 'integrity')
          fail(`${at}.signatureVerification.override.integrity`, 'integrity cannot be overridden');
        const allowed = Object.hasOwn(OVERRIDABLE, check) ? OVERRIDABLE[check] : undefined;
        if (!allowed)
          fail(
            `${at}.signatureVerification.override.${check}`,
            'unknown check (authenticity, authenticTimestamp, expiry, revocation)',
          );
        if (typeof action !== 'string' || !allowed?.includes(action as CheckAction)) {
          fail(
            `${at}.signatureVerification.override.${check}`,
            `unknown action ${describe(action)} (${allowed?.join(', ')})`,
          );
        }
        actions[check as VerificationCheck] = action as CheckAction;
      }
    }
    const vt = sv.verifyTimestamp ?? 'always';
    if (vt !== 'always' && vt !== 'afterCertExpiry')
      fail(
        `${at}.signatureVerification.verifyTimestamp`,
        `must be "always" or "afterCertExpiry" (got ${describe(vt)})`,
      );

    const ts = raw.trustStores;
    const ti = raw.trustedIdentities;
    if (levelName === 'skip') {
      if ((Array.isArray(ts) && ts.length > 0) || (Array.isArray(ti) && ti.length > 0)) {
        fail(
          at,
          `statement "${name}" skips signature verification but configures trust stores or trusted identities; remove them`,
        );
      }
      statements.push({
        name,
        registryScopes,
        level: levelName,
        actions,
        verifyTimestamp: vt as 'always',
        trustStores: [],
        trustedIdentities: [],
        source: raw,
      });
      continue;
    }
    if (!Array.isArray(ts) || ts.length === 0)
      return fail(`${at}.trustStores`, 'must be a non-empty array of "{type}:{name}"');
    const trustStores = (ts as unknown[]).map((s, j) => {
      const [type, storeName, extra] = typeof s === 'string' ? s.split(':') : [];
      if (!type || !STORE_TYPES.includes(type as StoreType)) {
        return fail(
          `${at}.trustStores[${j}]`,
          `${describe(s)}: unknown trust store type (ca, signingAuthority or tsa)`,
        );
      }
      if (!storeName || extra !== undefined || !STORE_NAME.test(storeName)) {
        return fail(`${at}.trustStores[${j}]`, `${describe(s)}: the store name must match [a-zA-Z0-9_.-]+`);
      }
      return { type: type as StoreType, name: storeName };
    });
    if (!Array.isArray(ti) || ti.length === 0)
      return fail(`${at}.trustedIdentities`, 'must be a non-empty array ("*" or "x509.subject: ...")');
    let trustedIdentities: '*' | DistinguishedName[];
    if ((ti as unknown[]).includes('*')) {
      if (ti.length > 1)
        fail(`${at}.trustedIdentities`, '"*" must be the only trusted identity of its statement');
      trustedIdentities = '*';
    } else {
      const dns = (ti as unknown[]).map((identity, j) => {
        const field = `${at}.trustedIdentities[${j}]`;
        if (typeof identity !== 'string') return fail(field, 'must be a string');
        const sep = identity.indexOf(':');
        if (sep < 0) return fail(field, `"${identity}" has no "x509.subject:" prefix`);
        const prefix = identity.slice(0, sep).trim();
        if (prefix !== 'x509.subject')
          return fail(field, `unsupported identity type "${prefix}" (x509.subject)`);
        const dn = parseDistinguishedName(identity.slice(sep + 1).trim());
        if ('error' in dn) return fail(field, dn.error as string);
        for (const required of ['C', 'ST', 'O']) {
          if (!dn.has(required)) fail(field, `"${identity}" must contain C, ST (or S) and O attributes`);
        }
        return dn as DistinguishedName;
      });
      for (const [j, a] of dns.entries()) {
        for (const [k, b] of dns.entries()) {
          if (j !== k && isSubsetDn(a, new Map([...b].map(([t, v]) => [t, [v]])))) {
            fail(`${at}.trustedIdentities[${k}]`, `overlaps with trustedIdentities[${j}] (${formatDn(a)})`);
          }
        }
      }
      trustedIdentities = dns;
    }
    statements.push({
      name,
      registryScopes,
      level: levelName,
      actions,
      verifyTimestamp: vt as 'always' | 'afterCertExpiry',
      trustStores,
      trustedIdentities,
      source: raw,
    });
  }
  return { version: '1.0', statements };
}

/**
 * The statement for a repository (`registry/namespace/repo`): an exact scope first, then the global `*`
 * (specs/trust-store-trust-policy.md "Selecting a trust policy to verify a signed OCI artifact").
 */
export function selectTrustPolicyStatement(
  policy: TrustPolicyDocument,
  repository: string,
): TrustPolicyStatement | undefined {
  return (
    policy.statements.find((s) => s.registryScopes.includes(repository)) ??
    policy.statements.find((s) => s.registryScopes.includes('*'))
  );
}
