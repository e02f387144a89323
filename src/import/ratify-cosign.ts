/**
 * Ratify's cosign verifier (pkg/verifier/cosign/cosign.go, trustpolicy.go, trustpolicies.go) as
 * `verifiers.cosign`: the legacy `key` / `rekorURL`, or `trustPolicies[]` with `scopes` (`*` every
 * image, `prefix*` a prefix, else exact), `keys` (`file` or a KeyManagementProvider), `keyless`
 * identities, `tLogVerify` and `ctLogVerify` (both true unless set).
 */

import {
  inlineMaterial,
  keyProvider,
  type MapContext,
  PUBLIC_REKOR,
  PUBLIC_TUF_MIRROR,
  resolveRatifyPath,
  unknownParams,
} from './ratify-context.js';
import type { RatifyVerifier } from './ratify-read.js';
import { asObject, asStringList } from './result.js';

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
