/**
 * Loads and validates the ATProto trust material once, at start: the ATCR trust policy (inline in
 * vouch.yaml or from `trustPolicyFile`, YAML or JSON) and the identity-network settings. Errors
 * name the file and the field path (VouchError CONFIG_INVALID).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { VouchError } from '../../errors.js';
import {
  ATPROTO_DEFAULTS,
  type AtprotoConfig,
  atcrTrustPolicySchema,
  atprotoConfigSchema,
} from './config.js';
import { type AtcrTrustPolicy, compileScopeGlob, type ScopedPolicy, type TrustedDid } from './policy.js';
import { isValidDid } from './syntax.js';

/** Identity-network mechanics (not trust): endpoints, limits, switches. */
export interface AtprotoNetworkSettings {
  readonly plcUrl: string;
  readonly allowPrivateNetwork: boolean;
  readonly didResolverTimeoutMs: number;
  readonly pdsTimeoutMs: number;
  readonly verifyPlcLog: boolean;
  readonly cacheTtlMs: number;
}

/** Everything the atproto verifier is constructed with. */
export interface AtprotoTrust {
  readonly policy: AtcrTrustPolicy;
  readonly network: AtprotoNetworkSettings;
  /** SHA-256 of the normalized policy and settings. */
  readonly generation: string;
}

function describeIssues(error: z.ZodError, where: string): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${where}${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`)
    .join('; ');
}

function compilePolicy(raw: unknown, where: string): AtcrTrustPolicy {
  const parsed = atcrTrustPolicySchema.safeParse(raw);
  if (!parsed.success)
    throw new VouchError(
      'CONFIG_INVALID',
      `invalid ATProto trust policy: ${describeIssues(parsed.error, where)}`,
    );
  const trustedDIDs = new Map<string, TrustedDid>();
  for (const [did, entry] of Object.entries(parsed.data.trustedDIDs)) {
    if (!isValidDid(did))
      throw new VouchError('CONFIG_INVALID', `${where}.trustedDIDs: "${did}" is not a valid DID`);
    const validFrom = entry?.validFrom ? new Date(entry.validFrom) : undefined;
    const expiresAt = entry?.expiresAt ? new Date(entry.expiresAt) : undefined;
    if (validFrom && expiresAt && expiresAt <= validFrom) {
      throw new VouchError('CONFIG_INVALID', `${where}.trustedDIDs.${did}: expiresAt is not after validFrom`);
    }
    trustedDIDs.set(did, {
      did,
      ...(entry?.name ? { name: entry.name } : {}),
      ...(validFrom ? { validFrom } : {}),
      ...(expiresAt ? { expiresAt } : {}),
    });
  }
  const policies: ScopedPolicy[] = parsed.data.policies.map((p, i) => {
    const at = `${where}.policies[${i}]`;
    for (const did of p.trustedDIDs) {
      if (!trustedDIDs.has(did))
        throw new VouchError('CONFIG_INVALID', `${at}.trustedDIDs: ${did} is not listed in trustedDIDs`);
    }
    if (p.require.signature && p.trustedDIDs.length === 0) {
      throw new VouchError('CONFIG_INVALID', `${at}: require.signature is true but trustedDIDs is empty`);
    }
    return {
      name: p.name,
      scope: p.scope,
      regex: compileScopeGlob(p.scope),
      requireSignature: p.require.signature,
      trustedDIDs: p.trustedDIDs,
      action: p.action,
    };
  });
  parsed.data.trustedHolds.forEach((did, i) => {
    if (!trustedDIDs.has(did))
      throw new VouchError(
        'CONFIG_INVALID',
        `${where}.trustedHolds[${i}]: ${did} is not listed in trustedDIDs (a hold's trust needs a validity window too)`,
      );
  });
  return { trustedDIDs, policies, trustedHolds: parsed.data.trustedHolds };
}

/** Reads a trust-policy file (YAML or JSON) relative to `baseDir`. */
async function readPolicyFile(file: string, baseDir: string): Promise<unknown> {
  const full = path.resolve(baseDir, file);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (err) {
    throw new VouchError(
      'CONFIG_INVALID',
      `cannot read ATProto trust policy ${full}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw new VouchError(
      'CONFIG_INVALID',
      `ATProto trust policy ${full} is not YAML/JSON: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Validates `config` (the `verifiers.atproto` section) and loads its trust policy. Exactly one of
 * `trustPolicy` and `trustPolicyFile` is required.
 */
export async function loadAtprotoTrust(
  config: AtprotoConfig,
  options: { baseDir: string; configPath?: string },
): Promise<AtprotoTrust> {
  const where = options.configPath ? `${options.configPath}: verifiers.atproto` : 'verifiers.atproto';
  const parsed = atprotoConfigSchema.safeParse(config);
  if (!parsed.success)
    throw new VouchError(
      'CONFIG_INVALID',
      `invalid ATProto settings: ${describeIssues(parsed.error, where)}`,
    );
  const c = parsed.data;
  if ((c.trustPolicy === undefined) === (c.trustPolicyFile === undefined)) {
    throw new VouchError('CONFIG_INVALID', `${where}: give exactly one of trustPolicy and trustPolicyFile`);
  }
  const policy =
    c.trustPolicyFile !== undefined
      ? compilePolicy(
          await readPolicyFile(c.trustPolicyFile, options.baseDir),
          path.resolve(options.baseDir, c.trustPolicyFile),
        )
      : compilePolicy(c.trustPolicy, `${where}.trustPolicy`);
  const network: AtprotoNetworkSettings = {
    plcUrl: (c.plcUrl ?? ATPROTO_DEFAULTS.plcUrl).replace(/\/+$/, ''),
    allowPrivateNetwork: c.allowPrivateNetwork ?? ATPROTO_DEFAULTS.allowPrivateNetwork,
    didResolverTimeoutMs: c.didResolverTimeoutMs ?? ATPROTO_DEFAULTS.didResolverTimeoutMs,
    pdsTimeoutMs: c.pdsTimeoutMs ?? ATPROTO_DEFAULTS.pdsTimeoutMs,
    verifyPlcLog: c.verifyPlcLog ?? ATPROTO_DEFAULTS.verifyPlcLog,
    cacheTtlMs: (c.cacheTtlSeconds ?? ATPROTO_DEFAULTS.cacheTtlSeconds) * 1000,
  };
  const normalized = {
    trustedDIDs: [...policy.trustedDIDs.values()].map((t) => ({
      did: t.did,
      name: t.name ?? null,
      validFrom: t.validFrom?.toISOString() ?? null,
      expiresAt: t.expiresAt?.toISOString() ?? null,
    })),
    policies: policy.policies.map(({ regex: _regex, ...rest }) => rest),
    trustedHolds: policy.trustedHolds,
    network,
  };
  const generation = createHash('sha256').update(JSON.stringify(normalized)).digest('hex');
  return { policy, network, generation };
}
