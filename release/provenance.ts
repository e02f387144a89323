/**
 * An in-toto statement with a SLSA v1 provenance predicate per asset, written by the release
 * itself: who built it (builder id), from what (source repository, ref and commit, every locked
 * npm package with its integrity digest), how (the command, SOURCE_DATE_EPOCH, the Node version)
 * and whether the work tree was dirty.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Asset } from './assets.js';
import type { SourceState } from './stage.js';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const RELEASE_BUILD_TYPE = 'https://vouch.dev/release/build/v1';

interface LockPackage {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  link?: boolean;
}

/** `sha512-<base64>` → `{sha512: <hex>}` (SLSA DigestSet). */
function digestSet(integrity: string): Record<string, string> | undefined {
  const m = /^(sha\d+)-([A-Za-z0-9+/=]+)$/.exec(integrity.split(/\s+/)[0] ?? '');
  return m?.[1] && m[2] ? { [m[1]]: Buffer.from(m[2], 'base64').toString('hex') } : undefined;
}

function lockedDependencies(stage: string): Array<Record<string, unknown>> {
  const lock = JSON.parse(readFileSync(path.join(stage, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, LockPackage>;
  };
  const out: Array<Record<string, unknown>> = [];
  for (const [where, p] of Object.entries(lock.packages ?? {})) {
    if (where === '' || p.dev || p.link || !p.version || !p.integrity) continue;
    const name = where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const digest = digestSet(p.integrity);
    if (!digest) continue;
    out.push({
      uri: `pkg:npm/${name.startsWith('@') ? `%40${name.slice(1)}` : name}@${p.version}`,
      digest,
      ...(p.resolved ? { downloadLocation: p.resolved } : {}),
    });
  }
  return out.sort((a, b) => String(a.uri).localeCompare(String(b.uri)));
}

export interface ProvenanceInput {
  readonly state: SourceState;
  readonly stage: string;
  readonly repository: string;
  readonly builderId: string;
  readonly command: string;
  readonly version: string;
}

export function provenanceStatement(input: ProvenanceInput, asset: Asset): Record<string, unknown> {
  const { state } = input;
  const time = new Date(state.sourceDateEpoch * 1000).toISOString();
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: asset.name, digest: { sha256: asset.sha256 } }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: RELEASE_BUILD_TYPE,
        externalParameters: {
          source: { repository: input.repository, ref: state.ref, commit: state.commit },
          command: input.command,
          version: input.version,
        },
        internalParameters: {
          SOURCE_DATE_EPOCH: state.sourceDateEpoch,
          node: process.version,
          dirty: state.dirty.length > 0,
          ...(state.dirty.length > 0 ? { dirtyFiles: state.dirty.map((l) => l.slice(3)) } : {}),
        },
        resolvedDependencies: [
          { uri: `git+${input.repository}@${state.ref}`, digest: { gitCommit: state.commit } },
          ...lockedDependencies(input.stage),
        ],
      },
      runDetails: {
        builder: { id: input.builderId },
        metadata: { invocationId: `${state.commit}/${asset.name}`, startedOn: time, finishedOn: time },
      },
    },
  };
}

/** Writes `<asset>.provenance.json` (the bare statement) beside the asset; returns the statement. */
export function writeProvenance(input: ProvenanceInput, asset: Asset, out: string): Record<string, unknown> {
  const statement = provenanceStatement(input, asset);
  writeFileSync(path.join(out, `${asset.name}.provenance.json`), `${JSON.stringify(statement, null, 2)}\n`);
  return statement;
}
