/** Discovered artifact trees as plain data, for readable deep-equal assertions in tests. */
import type { Artifact } from '../../src/engine/types.js';

/** Each artifact as `{ kind, type, digest, referrers }`, recursively. */
export function artifactTree(artifacts: readonly Artifact[]): unknown[] {
  return artifacts.map((a) => ({
    kind: a.kind,
    type: a.descriptor.artifactType ?? null,
    digest: a.descriptor.digest,
    referrers: artifactTree(a.referrers),
  }));
}
