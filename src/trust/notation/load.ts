/**
 * Loads Notary Project trust material from a `verifiers.notation` config: reads files (relative to
 * `baseDir`), validates the trust policy, loads every referenced store, and fails with an error that
 * names the config field when anything is missing or invalid.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { VouchError } from '../../errors.js';
import type { NotationConfig } from './config.js';
import { parseTrustPolicy, STORE_TYPES, type StoreType } from './policy.js';
import {
  expandStorePaths,
  loadNamedStoreDirectory,
  loadTrustStoreFiles,
  type NamedTrustStore,
} from './store.js';
import type { NotationTrust } from './types.js';

const MAX_POLICY_BYTES = 1024 * 1024;

async function readJson(file: string, label: string): Promise<unknown> {
  let text: string;
  try {
    const bytes = await readFile(file);
    if (bytes.length > MAX_POLICY_BYTES)
      throw new VouchError('CONFIG_INVALID', `${label}: ${file} is larger than 1 MiB`);
    text = bytes.toString('utf8');
  } catch (err) {
    if (err instanceof VouchError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new VouchError(
      'CONFIG_INVALID',
      `${label}: ${file} ${code === 'ENOENT' ? 'not found' : 'cannot be read'}`,
      { cause: err },
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new VouchError('CONFIG_INVALID', `${label}: ${file} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await readFile(file, { flag: 'r' });
    return true;
  } catch {
    return false;
  }
}

/** Loads and validates the trust material. Throws VouchError CONFIG_INVALID or TRUST_MATERIAL_INVALID. */
export async function loadNotationTrust(
  config: NotationConfig,
  options: { baseDir: string; configPath?: string },
): Promise<NotationTrust> {
  const at = options.configPath ?? 'verifiers.notation';
  const configDir =
    config.configDir === undefined ? undefined : path.resolve(options.baseDir, config.configDir);

  let policyDoc: unknown;
  let policyPath: string;
  if (config.trustPolicy !== undefined) {
    policyDoc = config.trustPolicy;
    policyPath = `${at}.trustPolicy`;
  } else if (config.trustPolicyFile !== undefined) {
    policyDoc = await readJson(
      path.resolve(options.baseDir, config.trustPolicyFile),
      `${at}.trustPolicyFile`,
    );
    policyPath = `${at}.trustPolicyFile(${config.trustPolicyFile})`;
  } else if (configDir !== undefined) {
    const oci = path.join(configDir, 'trustpolicy.oci.json');
    const file = (await exists(oci)) ? oci : path.join(configDir, 'trustpolicy.json');
    policyDoc = await readJson(file, `${at}.configDir`);
    policyPath = `${at}.configDir(${path.basename(file)})`;
  } else {
    throw new VouchError(
      'CONFIG_INVALID',
      `${at}: a trust policy is required (trustPolicy, trustPolicyFile or configDir)`,
    );
  }
  const policy = parseTrustPolicy(policyDoc, policyPath);

  const stores: Record<StoreType, Map<string, NamedTrustStore>> = {
    ca: new Map(),
    signingAuthority: new Map(),
    tsa: new Map(),
  };
  for (const type of STORE_TYPES) {
    for (const [name, paths] of Object.entries(config.trustStores?.[type] ?? {})) {
      const label = `${at}.trustStores.${type}.${name}`;
      stores[type].set(
        name,
        await loadTrustStoreFiles(type, name, await expandStorePaths(paths, options.baseDir, label), label),
      );
    }
  }
  policy.statements.forEach((statement, i) => {
    statement.trustStores.forEach((ref) => {
      if (!stores[ref.type].has(ref.name) && configDir === undefined) {
        throw new VouchError(
          'TRUST_MATERIAL_INVALID',
          `${policyPath}.trustPolicies[${i}].trustStores: store "${ref.type}:${ref.name}" is not configured (add it under ${at}.trustStores.${ref.type} or set ${at}.configDir)`,
        );
      }
    });
  });
  if (configDir !== undefined) {
    for (const statement of policy.statements) {
      for (const ref of statement.trustStores) {
        if (stores[ref.type].has(ref.name)) continue;
        const label = `${at}.configDir truststore/x509/${ref.type}/${ref.name}`;
        stores[ref.type].set(ref.name, await loadNamedStoreDirectory(configDir, ref.type, ref.name, label));
      }
    }
  }

  const hash = createHash('sha256');
  hash.update(JSON.stringify(policy.statements.map((s) => s.source)));
  for (const type of STORE_TYPES) {
    for (const [name, store] of [...stores[type]].sort(([a], [b]) => a.localeCompare(b))) {
      hash.update(`\n${type}:${name}:${store.certificates.map((c) => c.sha256).join(',')}`);
    }
  }
  const timeoutMs = config.revocation?.timeoutMs ?? 2000;
  const allowPrivateNetwork = config.revocation?.allowPrivateNetwork ?? false;
  hash.update(`\nrevocation:${timeoutMs}${allowPrivateNetwork ? ':allow-private-network' : ''}`);
  return {
    policy,
    stores,
    generation: `sha256:${hash.digest('hex')}`,
    revocation: { timeoutMs, allowPrivateNetwork },
  };
}
