/**
 * Writes the example OCI image layout under examples/layout/ (committed; the demo reads it).
 * Deterministic: fixed content and timestamps, so a rerun produces the same digests and leaves
 * the files unchanged. It only adds and re-tags through the layout store, so images that other
 * example scripts added to the same layout (signed images) are kept; `--clean` starts over.
 *
 *   node --import tsx examples/make-layout.ts [--clean]
 *
 * Content: `app` (an image with an SPDX SBOM referrer, which carries a signature-like referrer
 * of its own, and a SARIF vulnerability report referrer) and `base` (an image with nothing
 * attached). The "signature" here is a placeholder blob, not a verifiable signature.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attachArtifact } from '../src/referrers/attach.js';
import { openLayoutRepository } from '../src/registry/layout/index.js';
import { type Descriptor, MediaType, type Repository } from '../src/registry/types.js';

const LAYOUT_DIR = join(dirname(fileURLToPath(import.meta.url)), 'layout');
const CREATED = '2024-01-01T00:00:00Z';
const MTIME = Date.parse(CREATED) / 1000;
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar';
const text = (s: string) => new TextEncoder().encode(s);

/** A one-file POSIX ustar archive (fixed owner and mtime, so its bytes never change). */
function tarOf(path: string, content: Uint8Array): Uint8Array {
  const header = new Uint8Array(512);
  const put = (offset: number, length: number, value: string) => header.set(text(value).subarray(0, length), offset);
  const octal = (n: number, width: number) => `${n.toString(8).padStart(width - 1, '0')}\0`;
  put(0, 100, path);
  put(100, 8, '0000644\0');
  put(108, 8, octal(0, 8));
  put(116, 8, octal(0, 8));
  put(124, 12, octal(content.byteLength, 12));
  put(136, 12, octal(MTIME, 12));
  put(148, 8, '        ');
  put(156, 1, '0');
  put(257, 8, 'ustar\u000000');
  const sum = header.reduce((a, b) => a + b, 0);
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padded = Math.ceil(content.byteLength / 512) * 512;
  const out = new Uint8Array(512 + padded + 1024);
  out.set(header, 0);
  out.set(content, 512);
  return out;
}

/** Pushes a one-layer image (layer, config, manifest) tagged `tag`; returns its descriptor. */
async function pushImage(repo: Repository, tag: string, file: string, content: string): Promise<Descriptor> {
  const layerBytes = tarOf(file, text(content));
  const layer = await repo.pushBlob(layerBytes, LAYER_TYPE);
  const config = await repo.pushBlob(
    text(
      JSON.stringify({
        created: CREATED,
        architecture: 'amd64',
        os: 'linux',
        config: { Labels: { 'org.opencontainers.image.title': `vouch example ${tag}` } },
        rootfs: { type: 'layers', diff_ids: [`sha256:${createHash('sha256').update(layerBytes).digest('hex')}`] },
      }),
    ),
    MediaType.OciConfig,
  );
  const manifest = text(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config,
      layers: [layer],
      annotations: { 'org.opencontainers.image.created': CREATED, 'org.opencontainers.image.title': tag },
    }),
  );
  return (await repo.pushManifest(manifest, MediaType.OciManifest, { tag })).descriptor;
}

const SBOM = {
  spdxVersion: 'SPDX-2.3',
  dataLicense: 'CC0-1.0',
  SPDXID: 'SPDXRef-DOCUMENT',
  name: 'vouch-example-app',
  documentNamespace: 'https://example.invalid/spdx/vouch-example-app',
  creationInfo: { created: CREATED, creators: ['Tool: vouch examples/make-layout.ts'] },
  packages: [{ SPDXID: 'SPDXRef-hello', name: 'hello', versionInfo: '1.0.0', downloadLocation: 'NOASSERTION' }],
};

const SARIF = {
  version: '2.1.0',
  $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
  runs: [{ tool: { driver: { name: 'example-scanner', version: '1.0.0' } }, results: [] }],
};

async function main(): Promise<void> {
  if (process.argv.includes('--clean')) await rm(LAYOUT_DIR, { recursive: true, force: true });
  const repo = openLayoutRepository({ kind: 'layout', dir: LAYOUT_DIR });
  const annotations = { 'org.opencontainers.image.created': CREATED };

  const app = await pushImage(repo, 'app', 'etc/app/hello.txt', 'hello from the vouch example app\n');
  const sbom = await attachArtifact(repo, {
    subject: app,
    artifactType: 'application/spdx+json',
    layers: [{ bytes: text(JSON.stringify(SBOM)), mediaType: 'application/spdx+json' }],
    annotations,
  });
  const sbomSignature = await attachArtifact(repo, {
    subject: sbom,
    artifactType: 'application/vnd.dev.vouch.example.signature',
    layers: [{ bytes: text('placeholder: not a verifiable signature\n'), mediaType: 'application/octet-stream' }],
    annotations,
  });
  const report = await attachArtifact(repo, {
    subject: app,
    artifactType: 'application/sarif+json',
    layers: [{ bytes: text(JSON.stringify(SARIF)), mediaType: 'application/sarif+json' }],
    annotations,
  });
  const base = await pushImage(repo, 'base', 'etc/base/README', 'the vouch example base image: nothing attached\n');

  for (const [name, d] of Object.entries({ app, sbom, sbomSignature, report, base })) {
    process.stdout.write(`${name.padEnd(14)} ${d.digest}\n`);
  }
}

await main();
