/**
 * A CycloneDX 1.5 SBOM per asset, from the lockfile, by @cyclonedx/cyclonedx-npm (production
 * dependencies only, `--output-reproducible`: no serial number or timestamp that changes per run).
 * The executable also contains Node itself, so its SBOM lists the Node runtime as a component.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Asset } from './assets.js';
import { ReleaseError } from './stage.js';

export const CYCLONEDX_MEDIA_TYPE = 'application/vnd.cyclonedx+json';

interface Bom {
  metadata?: { timestamp?: string; component?: Record<string, unknown> };
  components?: Array<Record<string, unknown>>;
}

/** The SBOM of the staged package (lockfile only), before per-asset additions. */
export function packageSbom(stage: string, sourceDateEpoch: number): Bom {
  const out = path.join(stage, 'dist', 'sbom.cdx.json');
  try {
    execFileSync(
      path.join(stage, 'node_modules', '.bin', 'cyclonedx-npm'),
      [
        '--package-lock-only',
        '--omit',
        'dev',
        '--spec-version',
        '1.5',
        '--output-reproducible',
        '--output-format',
        'JSON',
        '--mc-type',
        'application',
        '--output-file',
        out,
      ],
      {
        cwd: stage,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, SOURCE_DATE_EPOCH: String(sourceDateEpoch) },
      },
    );
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new ReleaseError(
      `cyclonedx-npm failed: ${(e.stderr?.toString() || e.message).trim().slice(-2000)}`,
    );
  }
  const bom = JSON.parse(readFileSync(out, 'utf8')) as Bom;
  // the build's time, not the wall clock: the SBOM is as reproducible as the assets it describes
  bom.metadata = { ...bom.metadata, timestamp: new Date(sourceDateEpoch * 1000).toISOString() };
  return bom;
}

/** The SBOM of one asset, written beside it as `<asset>.cdx.json`; returns its path. */
export function writeAssetSbom(bom: Bom, asset: Asset, out: string): string {
  const copy = structuredClone(bom);
  if (asset.kind === 'executable') {
    const version = process.versions.node;
    copy.components = [
      ...(copy.components ?? []),
      {
        type: 'platform',
        'bom-ref': `pkg:generic/node@${version}`,
        name: 'node',
        version,
        description: 'Node.js runtime the single-file executable embeds',
        purl: `pkg:generic/node@${version}`,
        licenses: [{ license: { id: 'MIT' } }],
      },
    ];
  }
  const file = path.join(out, `${asset.name}.cdx.json`);
  writeFileSync(file, `${JSON.stringify(copy, null, 2)}\n`);
  return file;
}
