/**
 * Loads `verifiers.cosign` trust material once, at start: public key files, the trusted root
 * (validated by trusted-root.ts), and the per-scope policies with identities and conditions
 * compiled. Offline: no network call here. With `tuf` configured, the cached
 * `<cacheDir>/trusted_root.json` is used when no `trustedRoot` file is given.
 * Errors name the config path and file: `verifiers.cosign.keys[0]: ./cosign.pub not found`.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { VouchError } from '../../errors.js';
import { type CompiledScope, compileScope, scopeMatches } from '../../policy/scope.js';
import { type CosignConfig, compileConditions, compileIdentity } from './config.js';
import { type CosignPublicKey, parsePublicKey } from './public-key.js';
import { parseTrustedRoot } from './trusted-root.js';
import type { CosignPolicy, CosignTrustMaterial } from './types.js';

/** Everything the cosign verifier needs, loaded and validated. */
export interface CosignTrust {
  /** sha256 over every input (key bytes, trusted root bytes, policy): part of cache keys. */
  readonly generation: string;
  readonly material: CosignTrustMaterial;
  readonly defaultPolicy: CosignPolicy;
  readonly scoped: ReadonlyArray<{ readonly scope: CompiledScope; readonly policy: CosignPolicy }>;
}

/** The policy that applies to an image name (`registry/repository`): most specific scope first. */
export function policyFor(trust: CosignTrust, imageName: string): CosignPolicy {
  let best: { scope: CompiledScope; policy: CosignPolicy } | undefined;
  for (const s of trust.scoped) {
    if (scopeMatches(s.scope, imageName) && (!best || s.scope.specificity > best.scope.specificity)) best = s;
  }
  return best?.policy ?? trust.defaultPolicy;
}

type Fields = Omit<CosignConfig, 'trustedRoot' | 'policies' | 'tuf'>;

async function readConfigured(file: string, where: string, baseDir: string): Promise<string> {
  try {
    return await readFile(path.resolve(baseDir, file), 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new VouchError('CONFIG_INVALID', `${where}: ${file} ${missing ? 'not found' : 'is unreadable'}`, {
      cause: err,
    });
  }
}

/** Loads and validates the cosign trust material described by `config`. */
export async function loadCosignTrust(
  config: CosignConfig,
  options: { baseDir: string; configPath?: string },
): Promise<CosignTrust> {
  const at = options.configPath ?? 'verifiers.cosign';
  const hash = createHash('sha256');
  hash.update(JSON.stringify(config));
  let material: CosignTrustMaterial = {
    certificateAuthorities: [],
    intermediates: [],
    rekorKeys: [],
    ctLogs: [],
  };
  const rootFile =
    config.trustedRoot ?? (config.tuf ? path.join(config.tuf.cacheDir, 'trusted_root.json') : undefined);
  if (rootFile) {
    const where = config.trustedRoot ? `${at}.trustedRoot` : `${at}.tuf.cacheDir`;
    const text = await readConfigured(rootFile, where, options.baseDir);
    hash.update(text);
    try {
      material = parseTrustedRoot(text, `${where}: ${rootFile}`);
    } catch (err) {
      if (err instanceof VouchError) throw err;
      throw new VouchError('TRUST_MATERIAL_INVALID', `${where}: ${rootFile} is not a valid trusted root`, {
        cause: err,
      });
    }
  }
  const keyCache = new Map<string, CosignPublicKey>();
  const build = async (fields: Fields, where: string): Promise<CosignPolicy> => {
    const keys: CosignPublicKey[] = [];
    for (const [i, file] of (fields.keys ?? []).entries()) {
      const keyWhere = `${where}.keys[${i}]`;
      const text = await readConfigured(file, keyWhere, options.baseDir);
      hash.update(text);
      let key = keyCache.get(text);
      if (!key) {
        try {
          key = parsePublicKey(text, `${keyWhere}: ${file}`);
        } catch (err) {
          throw new VouchError('TRUST_MATERIAL_INVALID', `${keyWhere}: ${file} is not a PEM public key`, {
            cause: err,
          });
        }
        keyCache.set(text, key);
      }
      if (!keys.some((k) => k.id === key?.id)) keys.push(key);
    }
    const identities = (fields.identities ?? []).map(compileIdentity);
    const keyless = identities.length > 0;
    if (keyless && material.certificateAuthorities.length === 0) {
      throw new VouchError(
        'CONFIG_INVALID',
        `${where}.identities: keyless verification needs ${at}.trustedRoot`,
      );
    }
    const threshold = fields.threshold ?? 1;
    if (keys.length > 0 && threshold > keys.length) {
      throw new VouchError(
        'CONFIG_INVALID',
        `${where}.threshold: ${threshold} is more than the ${keys.length} keys`,
      );
    }
    return {
      keys,
      identities,
      threshold,
      requireTlog: fields.ignoreTlog ? false : keyless || material.rekorKeys.length > 0,
      requireSct: keyless && !fields.ignoreSct,
      ...(fields.dockerReference ? { dockerReference: fields.dockerReference } : {}),
      attestations: (fields.attestations ?? []).map((a) => ({
        predicateType: a.predicateType,
        conditions: compileConditions(a),
        ...(a.provenance ? { provenance: a.provenance } : {}),
        ...(a.sbom || a.vulnerabilities
          ? {
              content: {
                ...(a.sbom ? { sbom: a.sbom } : {}),
                ...(a.vulnerabilities ? { vulnerabilities: a.vulnerabilities } : {}),
              },
            }
          : {}),
      })),
    };
  };
  const { trustedRoot: _root, policies, tuf: _tuf, ...top } = config;
  const defaultPolicy = await build(top, at);
  const scoped: Array<{ scope: CompiledScope; policy: CosignPolicy }> = [];
  for (const [i, p] of (policies ?? []).entries()) {
    const { scope, ...fields } = p;
    // A scope overrides the top-level fields it sets; keys and identities replace each other.
    const merged: Fields =
      fields.keys || fields.identities
        ? { ...top, keys: fields.keys ?? [], identities: fields.identities ?? [], ...fields }
        : { ...top, ...fields };
    scoped.push({ scope: compileScope(scope), policy: await build(merged, `${at}.policies[${i}]`) });
  }
  return { generation: `sha256:${hash.digest('hex')}`, material, defaultPolicy, scoped };
}
