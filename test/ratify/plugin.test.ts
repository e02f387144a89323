/**
 * vouch as a Ratify v1 external verifier plugin, called as Ratify v1.4.0's executor calls one
 * (pkg/common/plugin/exec.go): the executable `vouch ratify install-plugin` wrote, in a separate
 * process, with RATIFY_VERIFIER_COMMAND/SUBJECT/VERSION in its environment and
 * {config, storeConfig, referenceDesc} on stdin; stdout parsed as Ratify parses it
 * (types.GetVerifierResult, or a plugin error {code, msg}). Real registry, real PLC + PDS.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { attachArtifact } from '../../src/referrers/attach.js';
import type { Descriptor } from '../../src/registry/types.js';
import { signCosign } from '../../src/sign/cosign/index.js';
import { signNotation } from '../../src/sign/notation/index.js';
import { generateTestCertificate } from '../../src/sign/notation/testcert.js';
import { ATPROTO_SIGNATURE_ARTIFACT_TYPE } from '../../src/verifiers/atproto/index.js';
import { startAtprotoNet } from '../helpers/atproto-net.js';
import { startRegistry } from '../helpers/registry.js';
import { sarifReport } from '../helpers/reports.js';
import {
  type E2E,
  type PushedImage,
  pushImage,
  sign as signAtcr,
  startE2E,
} from '../verifiers/atproto/support/e2e-env.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

interface Call {
  readonly code: number;
  readonly json: Record<string, unknown> | undefined;
  readonly stdout: string;
}

/** Ratify's VerifierResult schema, as types.GetVerifierResult reads a plugin's stdout. */
function assertVerifierResult(
  json: Record<string, unknown> | undefined,
): asserts json is Record<string, unknown> {
  assert.ok(json, 'stdout is JSON');
  assert.equal(typeof json.isSuccess, 'boolean');
  assert.equal(typeof json.name, 'string');
  assert.equal(typeof json.type, 'string');
  assert.equal(typeof json.message, 'string');
  assert.equal(typeof json.extensions, 'object');
}

describe('vouch as a Ratify verifier plugin', { timeout: 180_000 }, () => {
  let env: E2E;
  let dir: string;
  let plugin: string;
  let host: string;
  const desc: Record<string, Descriptor> = {};
  const subjects: Record<string, string> = {};

  /** One call the way Ratify's executor makes it. */
  function call(
    subject: string,
    input: unknown,
    overrides: Record<string, string | undefined> = {},
  ): Promise<Call> {
    const childEnv: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      RATIFY_VERIFIER_COMMAND: 'VERIFY',
      RATIFY_VERIFIER_SUBJECT: subject,
      RATIFY_VERIFIER_VERSION: '1.0.0',
    };
    for (const [k, v] of Object.entries(overrides)) {
      if (v === undefined) delete childEnv[k];
      else childEnv[k] = v;
    }
    return new Promise((resolve, reject) => {
      const child = spawn(plugin, [], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.resume();
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(stdout) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        resolve({ code: code ?? -1, json, stdout });
      });
      child.stdin.end(typeof input === 'string' ? input : JSON.stringify(input));
    });
  }

  const store = { version: '1.0.0', pluginBinDirs: null, store: { name: 'oras', useHttp: true } };
  const input = (config: Record<string, unknown>, d: Descriptor, storeConfig: unknown = store) => ({
    config: { name: 'vouch-verifier', type: 'vouch', ...config },
    storeConfig,
    referenceDesc: { mediaType: d.mediaType, digest: d.digest, size: d.size, artifactType: d.artifactType },
  });

  before(async () => {
    if (!existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js')))
      await run('npm', ['run', '-s', 'build'], { cwd: ROOT, timeout: 120_000 });
    env = await startE2E(startRegistry, startAtprotoNet);
    host = env.registry.host;
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-ratify-'));
    const installed = await run(path.join(ROOT, 'bin', 'vouch'), [
      'ratify',
      'install-plugin',
      '--dir',
      path.join(dir, 'plugins'),
      '--name',
      'vouch',
    ]);
    plugin = installed.stdout.trim();
    assert.equal(plugin, path.join(dir, 'plugins', 'vouch'));

    // notation: "good" signed by the trusted CA, "evil" by another
    const good = await generateTestCertificate({ name: 'acme.test', keyAlgorithm: 'ec-p256' });
    const evil = await generateTestCertificate({ name: 'evil.test', keyAlgorithm: 'ec-p256' });
    await writeFile(path.join(dir, 'ca.crt'), good.certPem);
    const cosignKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await writeFile(
      path.join(dir, 'cosign.pub'),
      cosignKey.publicKey.export({ format: 'pem', type: 'spki' }),
    );
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await writeFile(path.join(dir, 'other.pub'), otherKey.publicKey.export({ format: 'pem', type: 'spki' }));
    const notationSign = (image: PushedImage, cert: typeof good, subject = image.subject.descriptor) =>
      signNotation({
        repository: image.repo,
        subject,
        keyPem: cert.keyPem,
        certChainPem: cert.certPem,
        envelope: 'jws',
      });
    const images: Record<string, PushedImage> = {};
    for (const tag of ['good', 'evil', 'cosign', 'report', 'critical', 'atcr', 'mallory'])
      images[tag] = await pushImage(env, tag);
    for (const [tag, image] of Object.entries(images))
      subjects[tag] = `${host}/app@${image.subject.descriptor.digest}`;
    desc.good = await notationSign(images.good!, good);
    desc.evil = await notationSign(images.evil!, evil);
    desc.cosign = await signCosign({
      repository: images.cosign!.repo,
      subject: images.cosign!.subject.descriptor,
      subjectReference: `${host}/app`,
      privateKeyPem: cosignKey.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      mode: 'tag',
    });
    // Ratify's oras store lists cosign's .sig tag manifest with the cosign artifact type
    desc.cosign = { ...desc.cosign, artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' };
    for (const [tag, findings] of [
      ['report', [{ cve: 'CVE-2024-0001', severity: 'low' }]],
      ['critical', [{ cve: 'CVE-2024-0002', severity: 'critical' }]],
    ] as const) {
      const image = images[tag]!;
      const report = await attachArtifact(image.repo, {
        subject: image.subject.descriptor,
        artifactType: 'application/sarif+json',
        layers: [{ bytes: sarifReport([...findings]), mediaType: 'application/sarif+json' }],
        annotations: { 'org.opencontainers.image.created': new Date().toISOString() },
      });
      await notationSign(image, good, report);
      desc[tag] = report;
    }
    desc.atcr = await signAtcr(env, images.atcr!, env.accounts.alice!);
    desc.mallory = await signAtcr(env, images.mallory!, env.accounts.mallory!);

    const trust = {
      version: 1,
      trustedDIDs: { [env.accounts.alice!.did]: { name: 'alice' } },
      policies: [{ name: 'all', scope: '**', trustedDIDs: [env.accounts.alice!.did] }],
    };
    await writeFile(path.join(dir, 'atcr-trust.json'), JSON.stringify(trust));
    const vouchYaml = {
      // the registry is not listed as insecure here: the store config's useHttp says so
      registries: { dockerConfig: false },
      verifiers: {
        notation: {
          trustPolicy: {
            version: '1.0',
            trustPolicies: [
              {
                name: 'all',
                registryScopes: ['*'],
                signatureVerification: { level: 'strict' },
                trustStores: ['ca:acme'],
                trustedIdentities: ['*'],
              },
            ],
          },
          trustStores: { ca: { acme: ['ca.crt'] } },
        },
        cosign: { keys: ['cosign.pub'] },
        vulnerabilityReport: { disallowedSeverities: ['critical'] },
        atproto: { trustPolicyFile: 'atcr-trust.json', plcUrl: env.net.plcUrl, allowPrivateNetwork: true },
      },
    };
    await writeFile(path.join(dir, 'vouch.yaml'), JSON.stringify(vouchYaml));
    await writeFile(
      path.join(dir, 'other-key.yaml'),
      JSON.stringify({ ...vouchYaml, verifiers: { cosign: { keys: ['other.pub'] } } }),
    );
  });
  after(async () => {
    await env?.client.close();
    await Promise.allSettled([env?.net.stop(), env?.registry.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const config = (verifier: string, extra: Record<string, unknown> = {}) => ({
    verifier,
    vouchConfig: path.join(dir, 'vouch.yaml'),
    ...extra,
  });

  it('notation: a trusted signature is isSuccess with Ratify notation extensions; an untrusted one is not', async () => {
    const ok = await call(subjects.good!, input(config('notation'), desc.good!));
    assert.equal(ok.code, 0, ok.stdout);
    assertVerifierResult(ok.json);
    assert.equal(ok.json.isSuccess, true, ok.stdout);
    assert.equal(ok.json.name, 'vouch-verifier');
    assert.equal(ok.json.type, 'vouch');
    const ext = ok.json.extensions as Record<string, unknown>;
    assert.match(String(ext.SN), /CN=acme\.test/);
    assert.match(String(ext.Issuer), /CN=acme\.test/);
    const bad = await call(subjects.evil!, input(config('notation'), desc.evil!));
    assert.equal(bad.code, 0, bad.stdout);
    assertVerifierResult(bad.json);
    assert.equal(bad.json.isSuccess, false);
    assert.equal(typeof bad.json.errorReason, 'string');
  });

  it('notation: a signature listed for another image fails (the subject is checked)', async () => {
    const r = await call(subjects.evil!, input(config('notation'), desc.good!));
    assertVerifierResult(r.json);
    assert.equal(r.json.isSuccess, false);
  });

  it("cosign: the .sig tag manifest Ratify's store lists verifies with the key, not with another", async () => {
    const ok = await call(subjects.cosign!, input(config('cosign'), desc.cosign!));
    assertVerifierResult(ok.json);
    assert.equal(ok.json.isSuccess, true, ok.stdout);
    const other = await call(
      subjects.cosign!,
      input({ verifier: 'cosign', vouchConfig: path.join(dir, 'other-key.yaml') }, desc.cosign!),
    );
    assertVerifierResult(other.json);
    assert.equal(other.json.isSuccess, false);
  });

  it('vulnerabilityReport: type and extensions as the library Rego reads them; the report must be signed', async () => {
    const typed = (extra: Record<string, unknown>) => ({
      ...config('vulnerabilityReport'),
      type: 'vulnerabilityreport',
      ...extra,
    });
    const ok = await call(subjects.report!, input(typed({}), desc.report!));
    assertVerifierResult(ok.json);
    assert.equal(ok.json.isSuccess, true, ok.stdout);
    assert.equal(ok.json.type, 'vulnerabilityreport');
    const ext = ok.json.extensions as Record<string, unknown>;
    assert.equal(ext.scanner, 'Trivy');
    assert.ok(!Number.isNaN(Date.parse(String(ext.createdAt))), 'createdAt is RFC 3339');
    assert.deepEqual(
      (ext.nested as Array<{ verifier: string; outcome: string }>).map((n) => `${n.verifier}:${n.outcome}`),
      ['notation:verified'],
    );
    const critical = await call(subjects.critical!, input(typed({}), desc.critical!));
    assertVerifierResult(critical.json);
    assert.equal(critical.json.isSuccess, false);
    assert.deepEqual((critical.json.extensions as Record<string, unknown>).severityViolations, [
      'CVE-2024-0002',
    ]);
  });

  it('atproto: the seed parameters alone (trustPolicyPath, timeouts, cache) verify, with the seed extensions', async () => {
    const seed = {
      verifier: 'atproto',
      trustPolicyPath: path.join(dir, 'atcr-trust.json'),
      didResolverTimeout: '10s',
      pdsTimeout: '10s',
      cacheEnabled: true,
      cacheTTL: '300s',
      plcUrl: env.net.plcUrl,
      allowPrivateNetwork: true,
    };
    const ok = await call(
      subjects.atcr!,
      input(seed, { ...desc.atcr!, artifactType: ATPROTO_SIGNATURE_ARTIFACT_TYPE }),
    );
    assertVerifierResult(ok.json);
    assert.equal(ok.json.isSuccess, true, ok.stdout);
    const ext = ok.json.extensions as Record<string, unknown>;
    assert.equal(ext.did, env.accounts.alice!.did);
    assert.equal(ext.pdsEndpoint, env.net.pdsUrl);
    assert.match(String(ext.commitCid), /^bafy/);
    assert.ok(!Number.isNaN(Date.parse(String(ext.signedAt))));
    assert.equal(ext.error, undefined);
    const untrusted = await call(
      subjects.mallory!,
      input(config('atproto'), { ...desc.mallory!, artifactType: ATPROTO_SIGNATURE_ARTIFACT_TYPE }),
    );
    assertVerifierResult(untrusted.json);
    assert.equal(untrusted.json.isSuccess, false);
    assert.match(String((untrusted.json.extensions as Record<string, unknown>).error), /^untrusted-signer: /);
  });

  it('the shipped Verifier CRs (deploy/ratify-plugin), as Ratify turns a CR into plugin config, decide each format', async () => {
    // Ratify v1.4.0 pkg/controllers/utils/verifier.go SpecToVerifierConfig: the CR's parameters,
    // plus name (metadata.name), type and artifactTypes. File paths point into this test's folder.
    const crDir = path.join(ROOT, 'deploy', 'ratify-plugin');
    const fromCr = (file: string, local: Record<string, unknown>) => {
      const cr = parseYaml(readFileSync(path.join(crDir, file), 'utf8')) as {
        metadata: { name: string };
        spec: { type: string; artifactTypes: string; parameters: Record<string, unknown> };
      };
      const params = { ...cr.spec.parameters };
      if ('vouchConfig' in params) params.vouchConfig = path.join(dir, 'vouch.yaml');
      if ('trustPolicyPath' in params) params.trustPolicyPath = path.join(dir, 'atcr-trust.json');
      return {
        ...params,
        ...local,
        name: cr.metadata.name,
        type: cr.spec.type,
        artifactTypes: cr.spec.artifactTypes,
      };
    };
    const cases: Array<[string, string, Descriptor, boolean, Record<string, unknown>?]> = [
      ['verifier-notation.yaml', subjects.good!, desc.good!, true],
      ['verifier-notation.yaml', subjects.evil!, desc.evil!, false],
      ['verifier-cosign.yaml', subjects.cosign!, desc.cosign!, true],
      ['verifier-vulnerability-report.yaml', subjects.report!, desc.report!, true],
      ['verifier-vulnerability-report.yaml', subjects.critical!, desc.critical!, false],
      [
        'verifier-atproto.yaml',
        subjects.atcr!,
        { ...desc.atcr!, artifactType: ATPROTO_SIGNATURE_ARTIFACT_TYPE },
        true,
        // the test network's PLC directory on loopback (production resolves plc.directory)
        { plcUrl: env.net.plcUrl, allowPrivateNetwork: true },
      ],
    ];
    const results = await Promise.all(
      cases.map(([file, subject, d, , local]) =>
        call(subject, { config: fromCr(file, local ?? {}), storeConfig: store, referenceDesc: d }),
      ),
    );
    results.forEach((r, i) => {
      const [file, , , expected] = cases[i]!;
      assertVerifierResult(r.json);
      assert.equal(r.json.isSuccess, expected, `${file}: ${r.stdout}`);
      assert.equal(r.json.name, file.replace(/^verifier-/, 'vouch-').replace(/\.yaml$/, ''));
      assert.equal(r.json.type, 'vouch');
    });
  });

  it("bad input: Ratify's plugin error, a specific message, exit 1, never a success", async () => {
    const good = input(config('notation'), desc.good!);
    const cases: Array<[string, Promise<Call>, number, RegExp]> = [
      [
        'missing env',
        call(subjects.good!, good, { RATIFY_VERIFIER_SUBJECT: undefined }),
        4,
        /missing env variables \[RATIFY_VERIFIER_SUBJECT\]/,
      ],
      [
        'version',
        call(subjects.good!, good, { RATIFY_VERIFIER_VERSION: '9.9.9' }),
        6,
        /doesn't support version 9\.9\.9/,
      ],
      [
        'command',
        call(subjects.good!, good, { RATIFY_VERIFIER_COMMAND: 'DELETE' }),
        3,
        /unknown RATIFY_VERIFIER_COMMAND: DELETE/,
      ],
      ['stdin', call(subjects.good!, '{"config": '), 1, /error unmarshall verifier config/],
      [
        'no name',
        call(subjects.good!, { ...good, config: { verifier: 'notation' } }),
        2,
        /missing verifier name/,
      ],
      [
        'store',
        call(subjects.good!, input(config('notation'), desc.good!, { store: { name: 'localfs' } })),
        7,
        /store "localfs" is not supported/,
      ],
      [
        'auth',
        call(
          subjects.good!,
          input(config('notation'), desc.good!, {
            store: { name: 'oras', authProvider: { name: 'k8Secrets' } },
          }),
        ),
        7,
        /authProvider "k8Secrets" is not supported/,
      ],
      [
        'verifier',
        call(subjects.good!, input({ verifier: 'gpg', type: 'gpg', vouchConfig: 'x' }, desc.good!)),
        2,
        /no vouch verifier named/,
      ],
      [
        'no vouchConfig',
        call(subjects.good!, input({ verifier: 'notation' }, desc.good!)),
        2,
        /"vouchConfig" parameter .* is required/,
      ],
      ['subject', call('not a reference!', good), 7, /cannot parse subject reference/],
      [
        'config file',
        call(
          subjects.good!,
          input({ verifier: 'notation', vouchConfig: path.join(dir, 'missing.yaml') }, desc.good!),
        ),
        2,
        /invalid verifier config .*missing\.yaml: config file not found/,
      ],
    ];
    for (const [name, pending, code, message] of cases) {
      const r = await pending;
      assert.equal(r.code, 1, `${name}: exit ${r.code} ${r.stdout}`);
      assert.equal(r.json?.code, code, `${name}: ${r.stdout}`);
      assert.match(`${r.json?.msg} ${r.json?.details ?? ''}`, message, name);
      assert.equal(r.json?.isSuccess, undefined, `${name}: no success printed`);
    }
  });
});
