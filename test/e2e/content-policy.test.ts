/**
 * Content policy end to end on the real registry: SARIF reports and SPDX SBOMs attached to images,
 * signed (or not) with notation, decided through config → runtime → engine. A report counts only
 * when it is itself signed; a signature of a report never counts as a signature of the image.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMemoryCache } from '../../src/cache/memory.js';
import { composeConfig } from '../../src/config/compose.js';
import { buildRuntime } from '../../src/config/runtime.js';
import type { VouchConfigInput } from '../../src/config/schema.js';
import { verifyArtifact } from '../../src/engine/run.js';
import type { Report } from '../../src/engine/types.js';
import { silentLogger } from '../../src/observability/logger.js';
import { parseReference } from '../../src/reference/parse.js';
import { attachArtifact } from '../../src/referrers/attach.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client.js';
import type { Descriptor, Repository } from '../../src/registry/types.js';
import { signNotation } from '../../src/sign/notation/index.js';
import { generateTestCertificate } from '../../src/sign/notation/testcert.js';
import { vulnerabilityReportConfigSchema } from '../../src/verifiers/vulnerability-report/config.js';
import { createVulnerabilityReportVerifier } from '../../src/verifiers/vulnerability-report/index.js';
import { pushTestImage } from '../helpers/images.js';
import { trustAllNotationConfig } from '../helpers/notation-dir.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { sarifReport, spdxSbom } from '../helpers/reports.js';

let registry: TestRegistry;
let client: RegistryClient;
let dir: string;
let sign: (repository: Repository, subject: Descriptor) => Promise<void>;
const refs: Record<string, string> = {};

const CLEAN = sarifReport([{ cve: 'CVE-2024-0001', severity: 'medium', pkg: 'libssl' }]);
const CRITICAL = sarifReport([
  { cve: 'CVE-2024-0002', severity: 'critical', pkg: 'zlib' },
  { cve: 'CVE-2024-0003', severity: 'low', pkg: 'musl' },
]);
const SBOM_OK = spdxSbom([{ name: 'musl', version: '1.2.3', license: 'MIT' }]);
const SBOM_GPL = spdxSbom([{ name: 'readline', version: '8.0', license: 'GPL-3.0-or-later AND MIT' }]);

async function attach(
  repository: Repository,
  subject: Descriptor,
  artifactType: string,
  bytes: Uint8Array,
  created = new Date().toISOString(),
): Promise<Descriptor> {
  return attachArtifact(repository, {
    subject,
    artifactType,
    layers: [{ bytes, mediaType: artifactType }],
    annotations: { 'org.opencontainers.image.created': created },
  });
}

before(async () => {
  registry = await startRegistry();
  client = createRegistryClient({ insecureHosts: [registry.host] });
  dir = await mkdtemp(path.join(tmpdir(), 'vouch-content-'));
  const cert = await generateTestCertificate({ name: 'content.test', keyAlgorithm: 'ec-p256' });
  await writeFile(path.join(dir, 'ca.crt'), cert.certPem);
  sign = async (repository, subject) => {
    await signNotation({
      repository,
      subject,
      keyPem: cert.keyPem,
      certChainPem: cert.certPem,
      envelope: 'jws',
    });
  };
  const images: Array<[string, (repo: Repository, image: Descriptor) => Promise<void>]> = [
    [
      'clean',
      async (repo, image) => {
        await sign(repo, await attach(repo, image, 'application/sarif+json', CLEAN));
        await sign(repo, await attach(repo, image, 'application/spdx+json', SBOM_OK));
      },
    ],
    [
      'critical',
      async (repo, image) => sign(repo, await attach(repo, image, 'application/sarif+json', CRITICAL)),
    ],
    ['unsigned', async (repo, image) => void (await attach(repo, image, 'application/sarif+json', CLEAN))],
    [
      'old',
      async (repo, image) =>
        sign(repo, await attach(repo, image, 'application/sarif+json', CLEAN, '2020-01-01T00:00:00Z')),
    ],
    ['gpl', async (repo, image) => sign(repo, await attach(repo, image, 'application/spdx+json', SBOM_GPL))],
    [
      'notsarif',
      async (repo, image) =>
        sign(repo, await attach(repo, image, 'application/sarif+json', new TextEncoder().encode('{"a":1}'))),
    ],
  ];
  for (const [name, setUp] of images) {
    const ref = `${registry.host}/content/${name}:v1`;
    const repository = client.repository(parseReference(ref));
    const image = await pushTestImage(repository, 'v1', `content-${name}`);
    await setUp(repository, image);
    refs[name] = ref;
  }
});

after(async () => {
  await client.close();
  await registry.stop();
  await rm(dir, { recursive: true, force: true });
});

async function decide(
  ref: string,
  require: NonNullable<NonNullable<VouchConfigInput['policy']>['rules']>[number]['require'],
  content: Pick<NonNullable<VouchConfigInput['verifiers']>, 'sbom' | 'vulnerabilityReport'>,
) {
  const config: VouchConfigInput = {
    registries: { insecure: [registry.host], dockerConfig: false },
    verifiers: {
      notation: trustAllNotationConfig('content'),
      ...content,
    },
    policy: { rules: [{ name: 'content', scope: `${registry.host}/content/*`, require }] },
  };
  const file = path.join(dir, `vouch-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, JSON.stringify(config));
  const loaded = await composeConfig({ configFile: file });
  const runtime = await buildRuntime(loaded.config, { baseDir: loaded.baseDir });
  try {
    return await runtime.engine.decide(ref, { signal: AbortSignal.timeout(20_000) });
  } finally {
    await runtime.close();
  }
}

const only = (reports: readonly Report[], verifier: string) => reports.filter((r) => r.verifier === verifier);
const vulnPolicy = { vulnerabilityReport: { disallowedSeverities: ['critical'], maximumAge: '24h' } };

describe('vulnerability reports', () => {
  it('a signed clean report allows; its details name the scanner, counts and signer', async () => {
    const d = await decide(refs.clean as string, [{ verifier: 'vulnerabilityReport' }], vulnPolicy);
    assert.equal(d.allowed, true, d.why.join('; '));
    const [r] = only(d.reports, 'vulnerabilityReport');
    assert.equal(r?.outcome, 'verified');
    assert.equal(r?.details.scanner, 'Trivy');
    assert.equal(r?.details.scannerVersion, '0.50.0');
    assert.deepEqual(r?.details.counts, { medium: 1 });
    assert.deepEqual(r?.details.signedBy, ['notation']);
    assert.deepEqual(
      r?.nested.map((n) => `${n.verifier}:${n.outcome}`),
      ['notation:verified'],
    );
  });

  it('a signed report with a critical CVE denies, naming the CVE', async () => {
    const d = await decide(refs.critical as string, [{ verifier: 'vulnerabilityReport' }], vulnPolicy);
    assert.equal(d.allowed, false);
    const [r] = only(d.reports, 'vulnerabilityReport');
    assert.equal(r?.reason, 'disallowed-severity');
    assert.deepEqual(r?.details.violations, ['CVE-2024-0002']);
    assert.match(d.why.join(), /CVE-2024-0002/);
  });

  it('an unsigned report is failed with unsigned-report', async () => {
    const d = await decide(refs.unsigned as string, [{ verifier: 'vulnerabilityReport' }], vulnPolicy);
    assert.equal(d.allowed, false);
    assert.equal(only(d.reports, 'vulnerabilityReport')[0]?.reason, 'unsigned-report');
    const relaxed = await decide(refs.unsigned as string, [{ verifier: 'vulnerabilityReport' }], {
      vulnerabilityReport: { disallowedSeverities: ['critical'], requireSignature: [] },
    });
    assert.equal(relaxed.allowed, true, 'requireSignature: [] accepts unsigned reports');
  });

  it('a report older than maximumAge is too-old; a report that is not SARIF is malformed', async () => {
    const old = await decide(refs.old as string, [{ verifier: 'vulnerabilityReport' }], vulnPolicy);
    assert.equal(only(old.reports, 'vulnerabilityReport')[0]?.reason, 'too-old');
    const bad = await decide(refs.notsarif as string, [{ verifier: 'vulnerabilityReport' }], vulnPolicy);
    assert.equal(bad.allowed, false);
    assert.equal(only(bad.reports, 'vulnerabilityReport')[0]?.reason, 'malformed');
  });

  it('a report attached to another image is subject-mismatch, never a pass', async () => {
    // as a forged referrers listing would present it: the clean image's report, offered for
    // another image of the same repository
    const repo = client.repository(parseReference(refs.clean as string));
    const [report] = (
      await repo.referrers(await repo.resolve('v1'), { artifactType: 'application/sarif+json' })
    ).descriptors;
    const other = await pushTestImage(repo, 'other', 'content-other');
    const verifier = createVulnerabilityReportVerifier(
      vulnerabilityReportConfigSchema.parse({ disallowedSeverities: ['critical'] }),
      [],
    );
    const r = await verifyArtifact(
      verifier,
      {
        name: `${registry.host}/content/clean`,
        reference: parseReference(`${registry.host}/content/clean:other`),
        descriptor: other,
      },
      { descriptor: report as Descriptor, kind: 'referrer', source: 'referrers-tag', referrers: [] },
      {
        repository: repo,
        signal: AbortSignal.timeout(10_000),
        cache: createMemoryCache(),
        now: new Date(),
        logger: silentLogger,
      },
    );
    assert.equal(r.outcome, 'failed');
    assert.equal(r.reason, 'subject-mismatch');
    assert.match(r.message, /is attached to sha256:[a-f0-9]{64}, not to/);
  });

  it('the signature of a report is not a signature of the image', async () => {
    const d = await decide(refs.clean as string, [{ verifier: 'notation' }], vulnPolicy);
    assert.equal(d.allowed, false);
    assert.match(d.why.join(), /notation: no signature found/);
  });
});

describe('SBOMs and nested requirements', () => {
  it('signedBy in a policy requirement decides a signed-SBOM rule', async () => {
    const sbom = { sbom: { disallowedLicenses: ['GPL-3.0-or-later'], requireSignature: [] } };
    const signed = await decide(
      refs.clean as string,
      [{ verifier: 'sbom', signedBy: [{ verifier: 'notation' }] }],
      sbom,
    );
    assert.equal(signed.allowed, true, signed.why.join('; '));
    const [r] = only(signed.reports, 'sbom');
    assert.equal(r?.details.format, 'SPDX-2.3');
    assert.equal(r?.details.packages, 1);
    // the GPL SBOM is signed by notation but its licence is disallowed
    const gpl = await decide(
      refs.gpl as string,
      [{ verifier: 'sbom', signedBy: [{ verifier: 'notation' }] }],
      sbom,
    );
    assert.equal(gpl.allowed, false);
    assert.deepEqual(only(gpl.reports, 'sbom')[0]?.details.violations, [
      { name: 'readline', version: '8.0', license: 'GPL-3.0-or-later' },
    ]);
  });

  it('signedBy fails an SBOM that verifies but is not signed by the named verifier', async () => {
    // requireSignature [] lets the sbom verifier pass unsigned content; the policy's signedBy still refuses it
    const signedCritical = await decide(
      refs.critical as string,
      [{ verifier: 'vulnerabilityReport', signedBy: [{ verifier: 'notation' }] }],
      { vulnerabilityReport: { requireSignature: [] } },
    );
    assert.equal(
      signedCritical.allowed,
      true,
      'the critical report is signed by notation, and no severity is disallowed',
    );
    const unsigned = await decide(
      refs.unsigned as string,
      [{ verifier: 'vulnerabilityReport', signedBy: [{ verifier: 'notation' }] }],
      { vulnerabilityReport: { requireSignature: [] } },
    );
    assert.equal(unsigned.allowed, false);
    assert.match(unsigned.why.join(), /no signature verified by notation/);
  });
});
