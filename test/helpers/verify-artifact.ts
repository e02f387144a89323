/**
 * One verifier run on one artifact of an image pushed to a test registry, the way the engine
 * runs it (src/engine/run.ts: the verifier's needs read from the image's repository, then its
 * verdict; a deadline, a fresh memory cache, silent logs).
 * Shared by the verifier end-to-end tests so that each states only what it checks.
 */
import { createMemoryCache } from '../../src/cache/memory.js';
import { verifyArtifact as runVerifier } from '../../src/engine/run.js';
import type { Artifact, Report, RunContext, Verifier } from '../../src/engine/types.js';
import { silentLogger } from '../../src/observability/logger.js';
import { parseReference } from '../../src/reference/parse.js';
import type { RegistryClient } from '../../src/registry/client.js';
import type { Descriptor, Repository } from '../../src/registry/types.js';
import { pushTestImage } from './images.js';

/** An image in a test registry: its repository, its manifest descriptor and its name (`host/repo`). */
export interface PushedImage {
  readonly repository: Repository;
  readonly subject: Descriptor;
  readonly name: string;
}

/** Pushes a one-layer image with unique content as `<name>:<tag>` (`name` is `host/repo`). */
export async function pushFreshImage(
  client: RegistryClient,
  name: string,
  tag: string,
): Promise<PushedImage> {
  const repository = client.repository(parseReference(`${name}:${tag}`));
  const subject = await pushTestImage(repository, tag, `${tag}-${Math.random()}`);
  return { repository, subject, name };
}

/** The artifact cosign's tag schema lists for `img`: `sha256-<hex>.sig` or `.att`. */
export async function cosignTagArtifact(img: PushedImage, suffix: 'sig' | 'att'): Promise<Artifact> {
  const descriptor = await img.repository.resolve(`${img.subject.digest.replace(':', '-')}.${suffix}`);
  const kind = suffix === 'sig' ? 'cosign-signature' : 'cosign-attestation';
  return { descriptor, kind, source: 'cosign-tag', referrers: [] };
}

/** Runs `verifier` on `artifact` of `img` (20 s deadline); the artifact must be one it accepts. */
export async function verifyArtifact(
  verifier: Verifier,
  img: PushedImage,
  artifact: Artifact,
  options: { now?: Date } = {},
): Promise<Report> {
  if (!verifier.accepts(artifact)) {
    throw new Error(`verifier ${verifier.name} does not accept the ${artifact.kind} artifact`);
  }
  const ctx: RunContext = {
    repository: img.repository,
    signal: AbortSignal.timeout(20_000),
    cache: createMemoryCache(),
    now: options.now ?? new Date(),
    logger: silentLogger,
  };
  const subject = {
    name: img.name,
    reference: parseReference(`${img.name}@${img.subject.digest}`),
    descriptor: img.subject,
    repository: img.repository,
  };
  return runVerifier(verifier, subject, artifact, ctx);
}
