/**
 * Ratify v1.4.0's built-in verifiers as vouch verifier sections:
 * - notation (pkg/verifier/notation/notation.go, truststore.go): `trustPolicyDoc`, `verificationCerts`
 *   (files or folders serving every trust store the policy names that `verificationCertStores`
 *   does not), `verificationCertStores` (by type, or the legacy name → providers form meaning `ca`);
 * - cosign (pkg/verifier/cosign/cosign.go, trustpolicy.go): legacy `key` / `rekorURL`, or
 *   `trustPolicies[]` with `scopes`, `keys` (`file` or a KeyManagementProvider), `keyless`
 *   identities, `tLogVerify`, `ctLogVerify`;
 * - sbom (plugins/verifier/sbom): `disallowedLicenses`, `disallowedPackages[{name, version}]`;
 * - vulnerabilityreport (plugins/verifier/vulnerabilityreport): `maximumAge`,
 *   `disallowedSeverities`, `denylistCVEs`;
 * and, for both content verifiers, `nestedReferences` (the signature the report must carry).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { RatifyKeyProvider, RatifyModel, RatifyVerifier } from './ratify-read.js';
import { asObject, asStringList, type ImportBuilder } from './result.js';

export const NOTATION_SIGNATURE = 'application/vnd.cncf.notary.signature';
export const COSIGN_SIGNATURE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
export const PUBLIC_REKOR = 'https://rekor.sigstore.dev';
export const PUBLIC_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';

export interface MapContext {
  readonly b: ImportBuilder;
  readonly model: RatifyModel;
  /** Where the sigstore TUF cache goes when keyless or Rekor checks need the public trusted root. */
  readonly tufCacheDir: string;
}

/** A path from a Ratify file: `~` expanded, relative ones against the file's folder. */
export function resolveRatifyPath(ctx: MapContext, where: string, p: string): string {
  const expanded = p === '~' || p.startsWith('~/') ? path.join(homedir(), p.slice(1)) : p;
  const base = ctx.model.baseDirs.get(where) ?? ctx.model.baseDirs.get(where.split(':')[0] ?? '') ?? '.';
  return ctx.b.configPath(path.resolve(base, expanded));
}

function unknownParams(ctx: MapContext, v: RatifyVerifier, known: readonly string[]): void {
  for (const k of Object.keys(v.params))
    if (!known.includes(k))
      ctx.b.unsupportedField(
        `${v.where}: ${k}`,
        `not a parameter of Ratify's ${v.type} verifier vouch knows`,
      );
}

/** A KeyManagementProvider (or CertificateStore) by name or `namespace/name`. */
function keyProvider(ctx: MapContext, ref: string, where: string): RatifyKeyProvider | undefined {
  const found = ctx.model.keyProviders.find(
    (k) => k.name === ref || (k.namespace !== undefined && `${k.namespace}/${k.name}` === ref),
  );
  if (!found) {
    ctx.b.unsupportedField(
      `${where}: ${ref}`,
      'names a KeyManagementProvider that is not among the inputs (give its YAML file too)',
    );
    return undefined;
  }
  if (found.type !== 'inline') {
    ctx.b.unsupportedField(
      `${found.where}: spec.type ${found.type}`,
      'only inline providers can be carried over; export the certificates or keys to files and name them',
    );
    return undefined;
  }
  return found;
}

/** The PEM of an inline provider, as a material file; undefined when it holds the wrong kind. */
function inlineMaterial(
  ctx: MapContext,
  kp: RatifyKeyProvider,
  want: 'certificate' | 'key',
): string | undefined {
  const contentType = String(kp.params.contentType ?? '');
  const value = kp.params.value;
  if (contentType !== want || typeof value !== 'string' || value.trim() === '') {
    ctx.b.unsupportedField(
      `${kp.where}: parameters`,
      `needs contentType: ${want} and a PEM value (got contentType ${contentType || 'none'})`,
    );
    return undefined;
  }
  return ctx.b.material(kp.name, want === 'key' ? '.pub' : '.pem', value);
}

/** The Notary Project trust store types (notation-go verifier/truststore), as vouch spells them. */
const STORE_TYPES: Readonly<Record<string, 'ca' | 'signingAuthority' | 'tsa'>> = {
  ca: 'ca',
  signingAuthority: 'signingAuthority',
  tsa: 'tsa',
};

export function mapNotation(ctx: MapContext, v: RatifyVerifier, at: string[]): Record<string, unknown> {
  unknownParams(ctx, v, ['trustPolicyDoc', 'verificationCerts', 'verificationCertStores']);
  const out: Record<string, unknown> = {};
  const doc = asObject(v.params.trustPolicyDoc);
  if (!doc) {
    ctx.b.unsupportedField(`${v.where}: trustPolicyDoc`, 'required: the notation trust policy document');
    return out;
  }
  out.trustPolicy = doc;
  ctx.b.note([...at, 'trustPolicy'], `from ${v.where} trustPolicyDoc, unchanged`);
  const certs = asStringList(v.params.verificationCerts).map((p) => resolveRatifyPath(ctx, v.where, p));
  if (certs.length === 0) {
    const fallback = path.join(homedir(), '.ratify', 'ratify-certs', 'notation', 'truststore');
    if (existsSync(fallback)) certs.push(fallback);
  }
  const byType = certStoresByType(ctx, v);
  const stores: Record<string, Record<string, string[]>> = {};
  const named = new Set<string>();
  for (const policy of Array.isArray(doc.trustPolicies) ? doc.trustPolicies : [])
    for (const s of asStringList(asObject(policy)?.trustStores)) named.add(s);
  for (const ref of named) {
    const [rawType, name] = ref.split(':', 2);
    const type = STORE_TYPES[rawType ?? ''];
    if (!type || !name) continue; // the notation verifier names the bad reference when it loads
    const providers = byType?.[type]?.[name];
    let files: string[];
    if (providers && providers.length > 0) {
      files = providers.flatMap((p) => {
        const kp = keyProvider(ctx, p, `${v.where}: verificationCertStores.${type}.${name}`);
        const file = kp && inlineMaterial(ctx, kp, 'certificate');
        return file ? [file] : [];
      });
    } else if (certs.length > 0) {
      files = [...certs];
    } else {
      ctx.b.unsupportedField(
        `${v.where}: trust store ${ref}`,
        'no certificates: give verificationCerts or verificationCertStores for it',
      );
      continue;
    }
    if (files.length === 0) continue; // the provider's problem is recorded
    stores[type] ??= {};
    (stores[type] as Record<string, string[]>)[name] = files;
  }
  if (Object.keys(stores).length > 0) {
    out.trustStores = stores;
    ctx.b.note(
      [...at, 'trustStores'],
      'verificationCertStores (inline KeyManagementProviders written beside this file) and verificationCerts, per trust store the policy names',
    );
  }
  return out;
}

/** verificationCertStores normalised to type → store → providers (notation.go normalizeVerificationCertsStores). */
function certStoresByType(
  ctx: MapContext,
  v: RatifyVerifier,
): Record<string, Record<string, string[]>> | undefined {
  const raw = asObject(v.params.verificationCertStores);
  if (!raw) return undefined;
  const keys = Object.keys(raw);
  const typed = keys.filter((k) => k in STORE_TYPES);
  if (typed.length > 0 && typed.length < keys.length) {
    ctx.b.unsupportedField(
      `${v.where}: verificationCertStores`,
      'mixes the legacy (name → providers) and by-type forms, which Ratify refuses too',
    );
    return undefined;
  }
  const toMap = (o: unknown) => {
    const m: Record<string, string[]> = {};
    for (const [k, list] of Object.entries(asObject(o) ?? {})) m[k] = asStringList(list);
    return m;
  };
  if (typed.length === 0) return { ca: toMap(raw) };
  const out: Record<string, Record<string, string[]>> = {};
  for (const k of typed) out[k] = toMap(raw[k]);
  return out;
}

/** Sets the public sigstore trusted root over TUF (needed for keyless and Rekor checks). */
function usePublicTrustRoot(ctx: MapContext, cosign: Record<string, unknown>, at: string[]): void {
  if (cosign.tuf) return;
  cosign.tuf = { mirror: PUBLIC_TUF_MIRROR, cacheDir: ctx.tufCacheDir };
  ctx.b.note(
    [...at, 'tuf'],
    'the public sigstore trusted root (Fulcio, Rekor, CT log); run `vouch trust-refresh --config <this file>` once to fill cacheDir',
  );
}

/** Ratify cosign scopes: `*` every image, `prefix*` a prefix, else exact (trustpolicies.go GetScopedPolicy). */
function vouchScope(scope: string): string {
  return scope.endsWith('*') ? `${scope.slice(0, -1)}**` : scope;
}

export function mapCosign(ctx: MapContext, v: RatifyVerifier, at: string[]): Record<string, unknown> {
  unknownParams(ctx, v, ['key', 'rekorURL', 'trustPolicies', 'nestedArtifactTypes']);
  const cosign: Record<string, unknown> = {};
  const rekor = typeof v.params.rekorURL === 'string' ? v.params.rekorURL : undefined;
  const policies = Array.isArray(v.params.trustPolicies) ? v.params.trustPolicies : undefined;
  if (policies && (v.params.key !== undefined || rekor !== undefined)) {
    ctx.b.unsupportedField(
      `${v.where}: key/rekorURL`,
      'use trustPolicies or the legacy key/rekorURL, not both',
    );
    return cosign;
  }
  if (!policies) {
    if (typeof v.params.key !== 'string') {
      ctx.b.unsupportedField(
        `${v.where}: rekorURL`,
        'legacy keyless verification (no key, no trustPolicies) accepts any signer; vouch needs an identity: use trustPolicies[].keyless with certificateIdentity and certificateOIDCIssuer',
      );
      return cosign;
    }
    cosign.keys = [resolveRatifyPath(ctx, v.where, v.params.key)];
    ctx.b.note([...at, 'keys'], `from ${v.where} key`);
    if (rekor === undefined) cosign.ignoreTlog = true;
    else rekorRoot(ctx, v.where, rekor, cosign, at);
    return cosign;
  }
  const scoped: Array<Record<string, unknown>> = [];
  policies.forEach((raw, i) => {
    const p = asObject(raw) ?? {};
    const where = `${v.where}: trustPolicies[${i}]${typeof p.name === 'string' ? ` (${p.name})` : ''}`;
    const fields = trustPolicyFields(ctx, p, where, cosign, at);
    if (!fields) return;
    for (const scope of asStringList(p.scopes)) {
      if (scope === '*') {
        if (cosign.keys || cosign.identities)
          ctx.b.unsupportedField(`${where}: scopes`, 'a second trust policy for every image ("*")');
        else Object.assign(cosign, fields);
      } else {
        scoped.push({ scope: vouchScope(scope), ...fields });
      }
    }
    if (asStringList(p.scopes).length === 0) ctx.b.unsupportedField(`${where}: scopes`, 'required');
  });
  if (scoped.length > 0) {
    cosign.policies = scoped;
    ctx.b.note(
      [...at, 'policies'],
      'trustPolicies with scopes other than "*": `prefix*` became `prefix**`; the most specific scope applies',
    );
  }
  if (!cosign.keys && !cosign.identities && scoped.length > 0)
    ctx.b.note(
      [...at],
      'no trust policy for every image ("*"): images no scope matches fail cosign, as in Ratify',
    );
  return cosign;
}

function rekorRoot(
  ctx: MapContext,
  where: string,
  rekor: string,
  cosign: Record<string, unknown>,
  at: string[],
): void {
  if (rekor.replace(/\/+$/, '') !== PUBLIC_REKOR)
    ctx.b.unsupportedField(
      `${where}: rekorURL ${rekor}`,
      'a private Rekor: give its keys in a sigstore trusted_root.json (verifiers.cosign.trustedRoot)',
    );
  else usePublicTrustRoot(ctx, cosign, at);
}

/** One cosign trust policy's keys or identities, and its transparency-log settings. */
function trustPolicyFields(
  ctx: MapContext,
  p: Record<string, unknown>,
  where: string,
  cosign: Record<string, unknown>,
  at: string[],
): Record<string, unknown> | undefined {
  for (const k of Object.keys(p))
    if (!['name', 'version', 'scopes', 'keys', 'keyless', 'tLogVerify', 'rekorURL'].includes(k))
      ctx.b.unsupportedField(`${where}: ${k}`, 'not a field of a Ratify cosign trust policy');
  const fields: Record<string, unknown> = {};
  const keyless = asObject(p.keyless);
  const keys = Array.isArray(p.keys) ? p.keys : [];
  if (keys.length > 0 && keyless) {
    ctx.b.unsupportedField(`${where}`, 'keys and keyless in one trust policy (Ratify refuses it too)');
    return undefined;
  }
  if (keys.length > 0) {
    const files: string[] = [];
    keys.forEach((raw, j) => {
      const k = asObject(raw) ?? {};
      if (typeof k.file === 'string')
        files.push(resolveRatifyPath(ctx, where.split(':')[0] ?? where, k.file));
      else if (typeof k.provider === 'string') {
        const kp = keyProvider(ctx, k.provider, `${where}: keys[${j}]`);
        const file = kp && inlineMaterial(ctx, kp, 'key');
        if (file) files.push(file);
        if (k.name !== undefined || k.version !== undefined)
          ctx.b.note(
            [...at],
            `${where}: keys[${j}] name/version select within a provider; an inline provider holds one key`,
          );
      } else ctx.b.unsupportedField(`${where}: keys[${j}]`, 'needs file or provider');
    });
    fields.keys = files;
  } else if (keyless) {
    const identity: Record<string, string> = {};
    const copy = (from: string, to: string) => {
      if (typeof keyless[from] === 'string' && keyless[from] !== '') identity[to] = keyless[from] as string;
    };
    copy('certificateIdentity', 'subject');
    copy('certificateIdentityRegExp', 'subjectRegExp');
    copy('certificateOIDCIssuer', 'issuer');
    copy('certificateOIDCIssuerRegExp', 'issuerRegExp');
    if (keyless.ctLogVerify === false) fields.ignoreSct = true;
    fields.identities = [identity];
    usePublicTrustRoot(ctx, cosign, at);
  } else {
    ctx.b.unsupportedField(`${where}`, 'needs keys or keyless');
    return undefined;
  }
  if (p.tLogVerify === false) fields.ignoreTlog = true;
  else rekorRoot(ctx, where, typeof p.rekorURL === 'string' ? p.rekorURL : PUBLIC_REKOR, cosign, at);
  return fields;
}

/** `nestedReferences`: the artifact types of the signature a report must carry, as vouch verifiers. */
function requireSignature(ctx: MapContext, v: RatifyVerifier, at: string[]): string[] {
  const types = asStringList(v.params.nestedReferences);
  const names: string[] = [];
  for (const t of types) {
    if (t === NOTATION_SIGNATURE) names.push('notation');
    else if (t === COSIGN_SIGNATURE) names.push('cosign');
    else ctx.b.unsupportedField(`${v.where}: nestedReferences ${t}`, 'not a signature type vouch verifies');
  }
  ctx.b.note(
    [...at, 'requireSignature'],
    types.length > 0
      ? 'from nestedReferences: the report must carry one of these signatures'
      : "no nestedReferences: Ratify did not check the report's own signature, so neither does this",
  );
  return names;
}

export function mapSbom(ctx: MapContext, v: RatifyVerifier, at: string[]): Record<string, unknown> {
  unknownParams(ctx, v, ['disallowedLicenses', 'disallowedPackages', 'nestedReferences']);
  const out: Record<string, unknown> = {};
  const licences = asStringList(v.params.disallowedLicenses);
  if (licences.length > 0) out.disallowedLicenses = licences;
  if (Array.isArray(v.params.disallowedPackages)) {
    out.disallowedPackages = v.params.disallowedPackages.map((raw, i) => {
      const p = asObject(raw) ?? {};
      if (p.versionInfo !== undefined && p.version === undefined)
        ctx.b.note(
          [...at, 'disallowedPackages', i],
          'versionInfo is not a field Ratify reads (utils.PackageInfo has name, version): every version is disallowed, as in Ratify',
        );
      return {
        name: String(p.name ?? ''),
        ...(typeof p.version === 'string' && p.version !== '' ? { version: p.version } : {}),
      };
    });
  }
  out.requireSignature = requireSignature(ctx, v, at);
  return out;
}

export function mapVulnerabilityReport(
  ctx: MapContext,
  v: RatifyVerifier,
  at: string[],
): Record<string, unknown> {
  unknownParams(ctx, v, [
    'maximumAge',
    'disallowedSeverities',
    'denylistCVEs',
    'nestedReferences',
    'schemaURL',
    'createdAnnotationName',
    'passthrough',
  ]);
  const out: Record<string, unknown> = {};
  if (typeof v.params.maximumAge === 'string') out.maximumAge = v.params.maximumAge;
  const sev = asStringList(v.params.disallowedSeverities);
  if (sev.length > 0) out.disallowedSeverities = sev;
  const cves = asStringList(v.params.denylistCVEs);
  if (cves.length > 0) out.denylistCVEs = cves;
  if (v.params.passthrough === true)
    ctx.b.unsupportedField(
      `${v.where}: passthrough`,
      'vouch decides on the report itself; it has no pass-through to a Rego policy',
    );
  const created = v.params.createdAnnotationName;
  if (typeof created === 'string' && created !== 'org.opencontainers.image.created')
    ctx.b.unsupportedField(
      `${v.where}: createdAnnotationName`,
      'vouch reads org.opencontainers.image.created only',
    );
  if (v.params.schemaURL !== undefined)
    ctx.b.note([...at], `${v.where} schemaURL: vouch validates SARIF 2.1.0 itself and fetches no schema`);
  out.requireSignature = requireSignature(ctx, v, at);
  return out;
}
