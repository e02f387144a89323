/**
 * Test support for the ATProto end-to-end tests: a real PLC directory + PDS
 * (test/helpers/atproto-net.ts), a real registry (test/helpers/registry.ts), and helpers to sign
 * images with vouch's signer and to verify them with the atproto verifier.
 */
import { createMemoryCache } from '../../../../src/cache/memory.js';
import { verifyArtifact } from '../../../../src/engine/run.js';
import type { Artifact, Report, Subject } from '../../../../src/engine/types.js';
import { silentLogger } from '../../../../src/observability/logger.js';
import { parseReference } from '../../../../src/reference/parse.js';
import { createRegistryClient, type RegistryClient } from '../../../../src/registry/client.js';
import type { Descriptor, Repository } from '../../../../src/registry/types.js';
import { signAtproto } from '../../../../src/sign/atproto/index.js';
import type { AtprotoConfig } from '../../../../src/trust/atproto/config.js';
import { loadAtprotoTrust } from '../../../../src/trust/atproto/load.js';
import { defaultFetch, type FetchLike } from '../../../../src/verifiers/atproto/identity/http.js';
import {
  ATPROTO_SIGNATURE_ARTIFACT_TYPE,
  createAtprotoVerifier,
} from '../../../../src/verifiers/atproto/index.js';
import type { AtprotoNet, TestAccount } from '../../../helpers/atproto-net.js';
import { pushTestImage } from '../../../helpers/images.js';
import type { TestRegistry } from '../../../helpers/registry.js';

export interface E2E {
  readonly net: AtprotoNet;
  readonly registry: TestRegistry;
  readonly client: RegistryClient;
  readonly accounts: Record<string, TestAccount>;
}

export interface PushedImage {
  readonly tag: string;
  readonly repo: Repository;
  readonly subject: Subject;
}

export async function pushImage(env: E2E, tag: string): Promise<PushedImage> {
  const reference = parseReference(`${env.registry.host}/app:${tag}`);
  const repo = env.client.repository(reference);
  const descriptor = await pushTestImage(repo, tag, `atproto ${tag} ${Math.random()}`);
  return {
    tag,
    repo,
    subject: { name: `${env.registry.host}/app`, reference, descriptor, repository: repo },
  };
}

export async function sign(
  env: E2E,
  image: PushedImage,
  account: TestAccount,
  identifier = account.handle,
): Promise<Descriptor> {
  return signAtproto({
    repository: image.repo,
    subject: image.subject.descriptor,
    imageRepository: 'app',
    pdsUrl: env.net.pdsUrl,
    identifier,
    appPassword: account.appPassword,
    allowPrivateNetwork: true,
    signal: AbortSignal.timeout(30_000),
  });
}

export async function signatureArtifacts(image: PushedImage): Promise<Artifact[]> {
  const found = await image.repo.referrers(image.subject.descriptor.digest, {
    artifactType: ATPROTO_SIGNATURE_ARTIFACT_TYPE,
  });
  return found.descriptors.map((descriptor) => ({
    descriptor,
    kind: 'referrer',
    source: 'referrers-api',
    referrers: [],
  }));
}

/** Counts requests per origin role ('plc' | 'pds' | 'other'). */
export function countingFetch(env: E2E, counts: Record<string, number>): FetchLike {
  const inner = defaultFetch(true);
  return (url, init) => {
    const role = url.startsWith(env.net.plcUrl) ? 'plc' : url.startsWith(env.net.pdsUrl) ? 'pds' : 'other';
    counts[role] = (counts[role] ?? 0) + 1;
    return inner(url, init);
  };
}

export function trustPolicy(
  dids: Record<string, { validFrom?: string; expiresAt?: string | null }>,
  action: 'enforce' | 'audit' = 'enforce',
  scope = '**',
) {
  return {
    version: 1,
    trustedDIDs: Object.fromEntries(
      Object.entries(dids).map(([did, w]) => [did, { name: did.slice(-6), ...w }]),
    ),
    policies: [{ name: 'all', scope, require: { signature: true }, trustedDIDs: Object.keys(dids), action }],
  };
}

/** Verifies every atproto artifact of `image` with a fresh verifier; returns the reports. */
export async function verifyImage(
  env: E2E,
  image: PushedImage,
  config: AtprotoConfig,
  options: {
    fetch?: FetchLike;
    cache?: ReturnType<typeof createMemoryCache>;
    now?: Date;
    artifacts?: Artifact[];
  } = {},
): Promise<Report[]> {
  const trust = await loadAtprotoTrust(
    { plcUrl: env.net.plcUrl, allowPrivateNetwork: true, ...config },
    { baseDir: '.' },
  );
  const handles = new Map(Object.values(env.accounts).map((a) => [`_atproto.${a.handle}`, a.did]));
  const verifier = createAtprotoVerifier(trust, {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    resolveTxt: async (name) => {
      const did = handles.get(name);
      if (!did) throw Object.assign(new Error(`no TXT for ${name}`), { code: 'ENOTFOUND' });
      return [[`did=${did}`]];
    },
  });
  const cache = options.cache ?? createMemoryCache();
  const artifacts = options.artifacts ?? (await signatureArtifacts(image));
  const ctx = {
    repository: image.repo,
    signal: AbortSignal.timeout(30_000),
    cache,
    now: options.now ?? new Date(),
    logger: silentLogger,
  };
  return Promise.all(
    artifacts.filter((a) => verifier.accepts(a)).map((a) => verifyArtifact(verifier, image.subject, a, ctx)),
  );
}

export async function startE2E(
  startRegistry: () => Promise<TestRegistry>,
  startNet: () => Promise<AtprotoNet>,
): Promise<E2E> {
  const [net, registry] = await Promise.all([startNet(), startRegistry()]);
  const client = createRegistryClient({ insecureHosts: [registry.host], logger: silentLogger });
  const accounts: Record<string, TestAccount> = {};
  for (const name of ['alice', 'mallory', 'rotor', 'mover']) accounts[name] = await net.createAccount(name);
  return { net, registry, client, accounts };
}
