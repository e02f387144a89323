/**
 * Puts the signed release into an OCI image layout or a registry repository, all or nothing:
 * every asset becomes an OCI artifact (tagged with its file name; the file is its one layer),
 * signed with the release key as a sigstore bundle referrer (cosign v3's form), with its SBOM
 * (CycloneDX) and its provenance (SLSA v1) as signed in-toto attestations (cosign's `.att` tag).
 * Everything is first written to a staging layout; only when every asset is built, signed and
 * attested there is anything written to the destination, so a missing key, a failed build or a
 * failed signature leaves nothing half-published.
 */
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isLayoutReference, parseAnyReference } from '../src/reference/parse.js';
import { createRegistryClient } from '../src/registry/client.js';
import { openLayoutRepository } from '../src/registry/layout/index.js';
import type { Descriptor, Repository } from '../src/registry/types.js';
import { attestCosign, type KeylessServices } from '../src/sign/cosign/attest.js';
import { signCosign } from '../src/sign/cosign/index.js';
import { signCosignKeyless } from '../src/sign/cosign/keyless.js';
import type { Asset } from './assets.js';
import { CYCLONEDX_PREDICATE_TYPE } from './predicates.js';
import { SLSA_PROVENANCE_V1 } from './provenance.js';
import { ReleaseError } from './stage.js';

export const ASSET_ARTIFACT_TYPE = 'application/vnd.vouch.release.asset.v1';
const EMPTY = new TextEncoder().encode('{}');
const EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export type ReleaseSigner = { readonly privateKeyPem: string } | { readonly keyless: KeylessServices };

export interface SignedAsset {
  readonly asset: Asset;
  readonly tag: string;
  readonly manifest: Descriptor;
}

export interface PublishInput {
  readonly assets: readonly Asset[];
  readonly sboms: ReadonlyMap<string, unknown>;
  readonly provenance: ReadonlyMap<string, Record<string, unknown>>;
  readonly signer: ReleaseSigner;
  readonly version: string;
  readonly repository: string;
  readonly commit: string;
  readonly sourceDateEpoch: number;
  /** the staging layout directory (empty) */
  readonly staging: string;
}

/** An OCI artifact manifest for one asset file, pushed and tagged with the file name. */
async function pushAsset(repo: Repository, a: Asset, input: PublishInput): Promise<Descriptor> {
  const bytes = await readFile(a.file);
  const config = await repo.pushBlob(EMPTY, EMPTY_MEDIA_TYPE);
  const layer = await repo.pushBlob(bytes, a.mediaType);
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: ASSET_ARTIFACT_TYPE,
    config,
    layers: [{ ...layer, annotations: { 'org.opencontainers.image.title': a.name } }],
    annotations: {
      'org.opencontainers.image.title': a.name,
      'org.opencontainers.image.version': input.version,
      'org.opencontainers.image.source': input.repository,
      'org.opencontainers.image.revision': input.commit,
      'org.opencontainers.image.created': new Date(input.sourceDateEpoch * 1000).toISOString(),
    },
  };
  const body = new TextEncoder().encode(JSON.stringify(manifest));
  const pushed = await repo.pushManifest(body, OCI_MANIFEST, { tag: a.name });
  return { ...pushed.descriptor, artifactType: ASSET_ARTIFACT_TYPE };
}

/** Pushes, signs and attests every asset in `repo`. */
async function signInto(repo: Repository, input: PublishInput): Promise<SignedAsset[]> {
  const signed: SignedAsset[] = [];
  for (const asset of input.assets) {
    const provenance = input.provenance.get(asset.name);
    const sbom = input.sboms.get(asset.name);
    if (!provenance || sbom === undefined)
      throw new ReleaseError(`${asset.name}: no SBOM or provenance was built`);
    const manifest = await pushAsset(repo, asset, input);
    const subjectReference = `vouch-release/${asset.name}`;
    if ('privateKeyPem' in input.signer)
      await signCosign({
        repository: repo,
        subject: manifest,
        subjectReference,
        privateKeyPem: input.signer.privateKeyPem,
        mode: 'bundle',
      });
    else
      await signCosignKeyless({
        repository: repo,
        subject: manifest,
        subjectReference,
        ...input.signer.keyless,
        mode: 'bundle',
      });
    for (const [predicateType, predicate] of [
      [CYCLONEDX_PREDICATE_TYPE, sbom],
      [SLSA_PROVENANCE_V1, provenance.predicate],
    ] as const)
      await attestCosign({
        repository: repo,
        subject: manifest,
        subjectReference,
        predicateType,
        predicate,
        signer: input.signer,
      });
    signed.push({ asset, tag: asset.name, manifest });
  }
  return signed;
}

/** Signs and attests every asset in the (empty) staging layout: proves the whole release can be made. */
export function signIntoLayout(input: PublishInput): Promise<SignedAsset[]> {
  return signInto(openLayoutRepository({ kind: 'layout', dir: input.staging }), input);
}

/** Refuses, before anything is built, a destination that cannot take a release. */
export async function checkDestination(destination: string, insecure: readonly string[]): Promise<void> {
  const ref = parseAnyReference(destination);
  if (ref.tag || ref.digest)
    throw new ReleaseError(
      `--push ${destination}: give a ${isLayoutReference(ref) ? 'layout directory' : 'repository (registry/name)'}; each asset is tagged with its file name`,
    );
  if (isLayoutReference(ref)) {
    if (existsSync(ref.dir) && readdirSync(ref.dir).length > 0)
      throw new ReleaseError(`${ref.dir} is not empty: a release is written to a new layout directory`);
    return;
  }
  const scheme = insecure.includes(ref.registry) ? 'http' : 'https';
  try {
    // any answer (200, or 401 asking for a token) means a registry is there
    await fetch(`${scheme}://${ref.registry}/v2/`, {
      signal: AbortSignal.timeout(10_000),
      redirect: 'manual',
    });
  } catch (err) {
    throw new ReleaseError(
      `--push ${destination}: ${scheme}://${ref.registry}/v2/ does not answer (${(err as Error).cause ?? (err as Error).message})`,
    );
  }
}

/**
 * Publishes the staged release: `oci:DIR` (a new directory) gets a copy of the staging layout;
 * a registry repository gets the same pushes and signatures again through the registry client
 * (which keeps the referrers tag index where the registry has no Referrers API).
 */
export async function publish(
  input: PublishInput,
  destination: string,
  insecure: readonly string[],
): Promise<string> {
  const ref = parseAnyReference(destination);
  if (isLayoutReference(ref)) {
    if (ref.tag || ref.digest)
      throw new ReleaseError(
        `--push ${destination}: give a layout directory, each asset is tagged with its file name`,
      );
    if (existsSync(ref.dir) && readdirSync(ref.dir).length > 0)
      throw new ReleaseError(`${ref.dir} is not empty: a release is written to a new layout directory`);
    cpSync(input.staging, ref.dir, { recursive: true });
    return `oci:${ref.dir}`;
  }
  if (ref.tag || ref.digest)
    throw new ReleaseError(
      `--push ${destination}: give a repository (registry/name), each asset is tagged with its file name`,
    );
  const client = createRegistryClient({ insecureHosts: [...insecure] });
  try {
    await signInto(client.repository(ref), input);
  } catch (err) {
    throw new ReleaseError(`pushing the release to ${destination} failed: ${(err as Error).message}`);
  } finally {
    await client.close();
  }
  return destination;
}
