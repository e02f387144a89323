/**
 * `vouch attach` and the content policy through bin/vouch (the compiled CLI) on the real registry:
 * attach a SARIF report, sign the report with `vouch sign`, decide with `vouch verify`; skopeo
 * (a third-party registry client) confirms the artifact's subject. Bad input exits 2 naming it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseReference } from '../../src/reference/parse.js';
import { discoverArtifacts } from '../../src/referrers/discover.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client.js';
import type { Descriptor } from '../../src/registry/types.js';
import { pushTestImage } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { sarifReport } from '../helpers/reports.js';

const ROOT = resolve(import.meta.dirname, '../..');
const VOUCH = join(ROOT, 'bin', 'vouch');
const execFileAsync = promisify(execFile);

async function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, { cwd: ROOT, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
const vouch = (...args: string[]) => run(VOUCH, args);

describe('vouch attach, sign and verify of a vulnerability report', { timeout: 170_000 }, () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let work: string;
  let insecure: string[];
  const images: Record<string, Descriptor> = {};

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'vouch-cli-attach-'));
    if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'attach.js')))
      await execFileAsync('npm', ['run', '-s', 'build'], { cwd: ROOT, timeout: 120_000 });
    registry = await startRegistry();
    insecure = ['--insecure-registry', registry.host];
    client = createRegistryClient({ insecureHosts: [registry.host] });
    for (const name of ['clean', 'critical', 'unsigned']) {
      const repo = client.repository(parseReference(`${registry.host}/attach/${name}:v1`));
      images[name] = await pushTestImage(repo, 'v1', `attach-${name}`);
    }
    await writeFile(join(work, 'clean.sarif'), sarifReport([{ cve: 'CVE-2024-1000', severity: 'low' }]));
    await writeFile(
      join(work, 'critical.sarif'),
      sarifReport([{ cve: 'CVE-2024-2000', severity: 'critical' }]),
    );
    const cert = await vouch('cert', 'generate-test', 'attach.test', '--out', join(work, 'keys'));
    assert.equal(cert.code, 0, cert.stderr);
  });

  after(async () => {
    await client?.close();
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('attaches a report as a referrer with a subject and a created annotation, and prints its pinned reference', async () => {
    const out = await vouch(
      'attach',
      ...insecure,
      '--artifact-type',
      'application/sarif+json',
      '--file',
      join(work, 'clean.sarif'),
      '--annotation',
      'org.example/scanner=trivy',
      '-o',
      'json',
      `${registry.host}/attach/clean:v1`,
    );
    assert.equal(out.code, 0, out.stderr);
    const printed = JSON.parse(out.stdout) as { reference: string; digest: string };
    assert.equal(printed.reference, `${registry.host}/attach/clean@${printed.digest}`);
    const repo = client.repository(parseReference(`${registry.host}/attach/clean:v1`));
    const artifacts = await discoverArtifacts(repo, images.clean as Descriptor, {
      depth: 1,
      signal: AbortSignal.timeout(10_000),
    });
    const found = artifacts.find((a) => a.descriptor.digest === printed.digest);
    assert.equal(found?.descriptor.artifactType, 'application/sarif+json');
    const skopeo = await run('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${registry.host}/attach/clean@${printed.digest}`,
    ]);
    assert.equal(skopeo.code, 0, skopeo.stderr);
    const manifest = JSON.parse(skopeo.stdout) as {
      subject: { digest: string };
      annotations: Record<string, string>;
      layers: Array<{ mediaType: string }>;
    };
    assert.equal(manifest.subject.digest, images.clean?.digest);
    assert.equal(manifest.annotations['org.example/scanner'], 'trivy');
    assert.ok(!Number.isNaN(Date.parse(manifest.annotations['org.opencontainers.image.created'] ?? '')));
    assert.equal(manifest.layers[0]?.mediaType, 'application/sarif+json');
  });

  it('a signed clean report allows, a signed critical report denies naming the CVE, an unsigned one denies', async () => {
    const key = [
      '--format',
      'notation',
      '--key',
      join(work, 'keys', 'attach.test.key'),
      '--cert',
      join(work, 'keys', 'attach.test.crt'),
    ];
    const reports: Record<string, string> = {};
    for (const name of ['clean', 'critical', 'unsigned']) {
      const image = `${registry.host}/attach/${name}:v1`;
      assert.equal((await vouch('sign', ...insecure, ...key, image)).code, 0);
      const attached = await vouch(
        'attach',
        ...insecure,
        '--artifact-type',
        'application/sarif+json',
        '--file',
        join(work, name === 'critical' ? 'critical.sarif' : 'clean.sarif'),
        image,
      );
      assert.equal(attached.code, 0, attached.stderr);
      reports[name] = attached.stdout.trim();
    }
    // the clean and the critical reports are signed; the third image's clean report is not
    assert.equal((await vouch('sign', ...insecure, ...key, reports.clean as string)).code, 0);
    assert.equal((await vouch('sign', ...insecure, ...key, reports.critical as string)).code, 0);
    const nd = join(work, 'notation');
    await execFileAsync('mkdir', ['-p', join(nd, 'truststore', 'x509', 'ca', 'attach')]);
    await execFileAsync('cp', [
      join(work, 'keys', 'attach.test.crt'),
      join(nd, 'truststore', 'x509', 'ca', 'attach'),
    ]);
    await writeFile(
      join(nd, 'trustpolicy.json'),
      JSON.stringify({
        version: '1.0',
        trustPolicies: [
          {
            name: 'all',
            registryScopes: ['*'],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:attach'],
            trustedIdentities: ['*'],
          },
        ],
      }),
    );
    const config = join(work, 'vouch.yaml');
    await writeFile(
      config,
      JSON.stringify({
        registries: { insecure: [registry.host] },
        verifiers: {
          notation: { configDir: nd },
          vulnerabilityReport: { disallowedSeverities: ['critical'], maximumAge: '24h' },
        },
        policy: {
          rules: [
            {
              name: 'scanned',
              scope: `${registry.host}/attach/*`,
              require: [{ verifier: 'notation' }, { verifier: 'vulnerabilityReport' }],
            },
          ],
        },
      }),
    );
    const clean = await vouch('verify', '--config', config, '-o', 'json', `${registry.host}/attach/clean:v1`);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    const unsigned = await vouch(
      'verify',
      '--config',
      config,
      '-o',
      'json',
      `${registry.host}/attach/unsigned:v1`,
    );
    assert.equal(unsigned.code, 1);
    assert.match(unsigned.stdout, /unsigned-report/);
    const critical = await vouch(
      'verify',
      '--config',
      config,
      '-o',
      'json',
      `${registry.host}/attach/critical:v1`,
    );
    assert.equal(critical.code, 1);
    assert.match(critical.stdout, /disallowed-severity/);
    assert.match(critical.stdout, /CVE-2024-2000/);
  });

  it('bad annotations, a missing file and an oversize file exit 2 with a message naming them', async () => {
    const base = ['attach', ...insecure, '--artifact-type', 'application/sarif+json'];
    const image = `${registry.host}/attach/clean:v1`;
    const bad = await vouch(...base, '--file', join(work, 'clean.sarif'), '--annotation', 'novalue', image);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--annotation "novalue" is not KEY=VALUE/);
    const missing = await vouch(...base, '--file', join(work, 'nope.sarif'), image);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.sarif: file not found/);
    const big = await vouch(...base, '--file', join(work, 'clean.sarif'), '--max-bytes', '10', image);
    assert.equal(big.code, 2);
    assert.match(big.stderr, /more than --max-bytes 10/);
  });
});
