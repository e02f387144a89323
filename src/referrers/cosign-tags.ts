/**
 * cosign's tag schema: signatures, attestations and SBOMs of `<alg>:<hex>` are stored under the
 * tags `<alg>-<hex>.sig`, `.att` and `.sbom` of the same repository (sigstore/cosign
 * `pkg/oci/remote/remote.go`, `SignatureTag`/`AttestationTag`/`SBOMTag`).
 */

import type { ArtifactKind } from '../engine/types.js';
import { isVouchError } from '../errors.js';
import type { Descriptor, ReadonlyRepository } from '../registry/types.js';

/** The cosign tag suffixes and the artifact kind each holds. */
export const COSIGN_TAG_KINDS: ReadonlyArray<readonly [suffix: string, kind: ArtifactKind]> = [
  ['sig', 'cosign-signature'],
  ['att', 'cosign-attestation'],
  ['sbom', 'cosign-sbom'],
];

/** The cosign tag for `digest` with `suffix`: `sha256:ab…` → `sha256-ab….sig`. */
export function cosignTag(digest: string, suffix: string): string {
  return `${digest.replace(':', '-')}.${suffix}`;
}

/**
 * Resolves the three cosign tags of `subjectDigest` concurrently. A tag that does not exist
 * (REGISTRY_NOT_FOUND) is absent; any other error (unreachable, auth) is thrown, so discovery
 * never reports "no signature" when it could not look.
 */
export async function findCosignArtifacts(
  repository: ReadonlyRepository,
  subjectDigest: string,
  signal: AbortSignal | undefined,
  run: <T>(task: () => Promise<T>) => Promise<T> = (task) => task(),
): Promise<Array<{ descriptor: Descriptor; kind: ArtifactKind }>> {
  const found = await Promise.all(
    COSIGN_TAG_KINDS.map(async ([suffix, kind]) => {
      try {
        const tag = cosignTag(subjectDigest, suffix);
        const descriptor = await run(() => repository.resolve(tag, signal ? { signal } : {}));
        return { descriptor, kind };
      } catch (err) {
        if (isVouchError(err, 'REGISTRY_NOT_FOUND')) return undefined;
        throw err;
      }
    }),
  );
  return found.filter((f): f is { descriptor: Descriptor; kind: ArtifactKind } => f !== undefined);
}
