/**
 * What the Ratify verifier mappings share: the mapping context, Ratify's signature artifact types
 * and public sigstore endpoints, path resolution, and the inline KeyManagementProvider (or
 * CertificateStore) material that certificates and keys are written from.
 */
import { homedir } from 'node:os';
import path from 'node:path';
import type { RatifyKeyProvider, RatifyModel, RatifyVerifier } from './ratify-read.js';
import type { ImportBuilder } from './result.js';

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

export function unknownParams(ctx: MapContext, v: RatifyVerifier, known: readonly string[]): void {
  for (const k of Object.keys(v.params))
    if (!known.includes(k))
      ctx.b.unsupportedField(
        `${v.where}: ${k}`,
        `not a parameter of Ratify's ${v.type} verifier vouch knows`,
      );
}

/** A KeyManagementProvider (or CertificateStore) by name or `namespace/name`. */
export function keyProvider(ctx: MapContext, ref: string, where: string): RatifyKeyProvider | undefined {
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
export function inlineMaterial(
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
