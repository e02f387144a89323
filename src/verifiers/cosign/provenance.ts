/**
 * SLSA provenance conditions (`attestations[].provenance` in the cosign config): builder id,
 * source repository, source ref and build type, read from SLSA v1 (`runDetails.builder.id`,
 * `buildDefinition.buildType`, GitHub's `externalParameters.workflow`, the git resolved
 * dependency) and v0.2 (`builder.id`, `buildType`, `invocation.configSource`, `materials`)
 * predicates, in cosign attestations and sigstore bundles alike. Each mismatch has its own reason.
 */
import type { ProvenanceExpectation } from '../../trust/cosign/types.js';
import { CosignCheckFailure } from './failure.js';

export const SLSA_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_V02 = 'https://slsa.dev/provenance/v0.2';

/** What a provenance predicate says, whatever its version. */
export interface ProvenanceFacts {
  readonly builderId: string | undefined;
  readonly buildType: string | undefined;
  readonly sourceRepository: string | undefined;
  readonly sourceRef: string | undefined;
}

const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** `git+https://github.com/acme/app.git@refs/heads/main` → repository and ref. */
function splitGitUri(uri: string | undefined): { repository?: string; ref?: string } {
  if (!uri) return {};
  const bare = uri.replace(/^git\+/, '');
  const at = bare.lastIndexOf('@');
  const hasRef = at > bare.indexOf('://') + 3;
  const repository = normalizeRepository(hasRef ? bare.slice(0, at) : bare);
  return hasRef ? { repository, ref: bare.slice(at + 1) } : { repository };
}

/** Repository URLs compare without `git+`, a trailing `.git` or `/`, and case of the host. */
export function normalizeRepository(uri: string): string {
  const bare = uri
    .replace(/^git\+/, '')
    .replace(/\.git$/, '')
    .replace(/\/$/, '');
  const m = /^([a-z]+:\/\/)([^/]+)(.*)$/i.exec(bare);
  return m ? `${m[1]?.toLowerCase()}${m[2]?.toLowerCase()}${m[3]}` : bare;
}

/**
 * Whether two repository names are the same repository: normalized, and without the scheme, so
 * `github.com/acme/app` (as policy-controller and cosign's flags write it) matches the
 * provenance's `https://github.com/acme/app` or `git+https://github.com/acme/app.git`.
 */
export function sameRepository(a: string, b: string): boolean {
  const bare = (uri: string) => normalizeRepository(uri).replace(/^[a-z+]+:\/\//, '');
  return bare(a) === bare(b);
}

export function provenanceFacts(predicateType: string, predicate: unknown): ProvenanceFacts {
  const p = obj(predicate) ?? {};
  if (predicateType === SLSA_V02) {
    const source = splitGitUri(str(obj(obj(p.invocation)?.configSource)?.uri));
    const material = Array.isArray(p.materials) ? splitGitUri(str(obj(p.materials[0])?.uri)) : {};
    return {
      builderId: str(obj(p.builder)?.id),
      buildType: str(p.buildType),
      sourceRepository: source.repository ?? material.repository,
      sourceRef: source.ref ?? material.ref,
    };
  }
  const definition = obj(p.buildDefinition) ?? {};
  const external = obj(definition.externalParameters) ?? {};
  const workflow = obj(external.workflow);
  const deps = Array.isArray(definition.resolvedDependencies) ? definition.resolvedDependencies : [];
  const gitDep = splitGitUri(deps.map((d) => str(obj(d)?.uri)).find((u) => u?.startsWith('git+')));
  const workflowRepo = str(workflow?.repository);
  return {
    builderId: str(obj(obj(p.runDetails)?.builder)?.id),
    buildType: str(definition.buildType),
    sourceRepository: workflowRepo ? normalizeRepository(workflowRepo) : gitDep.repository,
    sourceRef: str(workflow?.ref) ?? gitDep.ref,
  };
}

/** Throws a reason naming the first field that differs from what is expected. */
export function checkProvenance(
  predicateType: string,
  predicate: unknown,
  expect: ProvenanceExpectation,
): void {
  if (predicateType !== SLSA_V1 && predicateType !== SLSA_V02)
    throw new CosignCheckFailure(
      'predicate-type-mismatch',
      `provenance conditions need an SLSA provenance predicate (${SLSA_V1} or ${SLSA_V02}), not ${predicateType}`,
    );
  const facts = provenanceFacts(predicateType, predicate);
  const check = (
    reason: 'builder-mismatch' | 'source-mismatch' | 'ref-mismatch' | 'build-type-mismatch',
    what: string,
    got: string | undefined,
    want: string | undefined,
    same: (a: string, b: string) => boolean = (a, b) => a === b,
  ) => {
    if (want === undefined) return;
    if (got === undefined || !same(got, want))
      throw new CosignCheckFailure(
        reason,
        got === undefined
          ? `the provenance names no ${what}; ${want} is required`
          : `the provenance's ${what} is ${got}, not ${want}`,
        { [what.replace(/ (\w)/g, (_, c: string) => c.toUpperCase())]: got ?? null },
      );
  };
  check('builder-mismatch', 'builder id', facts.builderId, expect.builderId);
  check(
    'source-mismatch',
    'source repository',
    facts.sourceRepository,
    expect.sourceRepository,
    sameRepository,
  );
  check('ref-mismatch', 'source ref', facts.sourceRef, expect.sourceRef);
  check('build-type-mismatch', 'build type', facts.buildType, expect.buildType);
}
