/**
 * Ratify v1.4.0's built-in verifiers as vouch verifier sections:
 * - notation (pkg/verifier/notation/notation.go, truststore.go): `trustPolicyDoc`, `verificationCerts`
 *   (files or folders serving every trust store the policy names that `verificationCertStores`
 *   does not), `verificationCertStores` (by type, or the legacy name → providers form meaning `ca`);
 * - cosign: ratify-cosign.ts;
 * - sbom (plugins/verifier/sbom): `disallowedLicenses`, `disallowedPackages[{name, version}]`;
 * - vulnerabilityreport (plugins/verifier/vulnerabilityreport): `maximumAge`,
 *   `disallowedSeverities`, `denylistCVEs`;
 * and, for both content verifiers, `nestedReferences` (the signature the report must carry).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import {
  COSIGN_SIGNATURE,
  inlineMaterial,
  keyProvider,
  type MapContext,
  NOTATION_SIGNATURE,
  resolveRatifyPath,
  unknownParams,
} from './ratify-context.js';
import type { RatifyVerifier } from './ratify-read.js';
import { asObject, asStringList } from './result.js';

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
