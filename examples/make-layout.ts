/**
 * Writes the example OCI image layout under examples/layout/ (committed; the demo reads it).
 * Deterministic: fixed content and timestamps, so a rerun produces the same digests and leaves
 * the files unchanged. It only adds and re-tags through the layout store, so images that other
 * example scripts added to the same layout (signed images) are kept; `--clean` starts over.
 *
 *   node --import tsx examples/make-layout.ts [--clean]
 *
 * Content: `app` (an image with an SPDX SBOM and a clean SARIF vulnerability report attached as
 * referrers), `web` (the same, but its Trivy-shaped report has a critical CVE) and `base` (an
 * image with nothing attached). examples/sign-layout.ts signs app, web and their documents.
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

/** An SPDX 2.3 SBOM of one package (as Syft writes them, reduced). */
function sbomOf(name: string, packages: ReadonlyArray<{ name: string; version: string; license: string }>) {
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name,
    documentNamespace: `https://example.invalid/spdx/${name}`,
    creationInfo: { created: CREATED, creators: ['Tool: vouch examples/make-layout.ts'] },
    packages: packages.map((p, i) => ({
      SPDXID: `SPDXRef-Package-${i}`,
      name: p.name,
      versionInfo: p.version,
      downloadLocation: 'NOASSERTION',
      licenseConcluded: p.license,
      licenseDeclared: p.license,
    })),
  };
}

/** A SARIF 2.1.0 report shaped as Trivy writes it: the severity label is in the rule's help. */
function sarifOf(findings: ReadonlyArray<{ cve: string; severity: string; pkg: string; version: string }>) {
  return {
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0-rtm.5.json',
    runs: [
      {
        tool: {
          driver: {
            name: 'Trivy',
            version: '0.50.0',
            informationUri: 'https://github.com/aquasecurity/trivy',
            rules: findings.map((f) => ({
              id: f.cve,
              name: 'OsPackageVulnerability',
              shortDescription: { text: `${f.cve} in ${f.pkg}` },
              help: {
                text: `Vulnerability ${f.cve}\nSeverity: ${f.severity}\nPackage: ${f.pkg}\nInstalled Version: ${f.version}`,
              },
              properties: { tags: ['vulnerability', 'security', f.severity] },
            })),
          },
        },
        results: findings.map((f, i) => ({
          ruleId: f.cve,
          ruleIndex: i,
          level: f.severity === 'CRITICAL' || f.severity === 'HIGH' ? 'error' : 'note',
          message: { text: `Package: ${f.pkg}\nInstalled Version: ${f.version}\nVulnerability ${f.cve}` },
          locations: [{ physicalLocation: { artifactLocation: { uri: 'image', uriBaseId: 'ROOTPATH' } } }],
        })),
      },
    ],
  };
}

const json = (doc: unknown) => text(JSON.stringify(doc));

async function main(): Promise<void> {
  if (process.argv.includes('--clean')) await rm(LAYOUT_DIR, { recursive: true, force: true });
  const repo = openLayoutRepository({ kind: 'layout', dir: LAYOUT_DIR });
  const annotations = { 'org.opencontainers.image.created': CREATED };
  const attach = (subject: Descriptor, artifactType: string, doc: unknown) =>
    attachArtifact(repo, {
      subject,
      artifactType,
      layers: [{ bytes: json(doc), mediaType: artifactType }],
      annotations,
    });

  // app: a clean report (one low finding) and an SBOM of permissively licensed packages
  const app = await pushImage(repo, 'app', 'etc/app/hello.txt', 'hello from the vouch example app\n');
  const sbom = await attach(
    app,
    'application/spdx+json',
    sbomOf('vouch-example-app', [{ name: 'hello', version: '1.0.0', license: 'Apache-2.0' }]),
  );
  const report = await attach(
    app,
    'application/sarif+json',
    sarifOf([{ cve: 'CVE-2024-0001', severity: 'LOW', pkg: 'hello', version: '1.0.0' }]),
  );
  // web: signed like app, but its report has a critical CVE, so the content policy denies it
  const web = await pushImage(repo, 'web', 'etc/web/index.html', '<p>the vouch example web image</p>\n');
  const webSbom = await attach(
    web,
    'application/spdx+json',
    sbomOf('vouch-example-web', [{ name: 'log4j-core', version: '2.14.1', license: 'Apache-2.0' }]),
  );
  const webReport = await attach(
    web,
    'application/sarif+json',
    sarifOf([{ cve: 'CVE-2021-44228', severity: 'CRITICAL', pkg: 'log4j-core', version: '2.14.1' }]),
  );
  const base = await pushImage(repo, 'base', 'etc/base/README', 'the vouch example base image: nothing attached\n');

  for (const [name, d] of Object.entries({ app, sbom, report, web, webSbom, webReport, base })) {
    process.stdout.write(`${name.padEnd(14)} ${d.digest}\n`);
  }
}

await main();
