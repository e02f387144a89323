/**
 * The Notary Project workflow end to end on a real registry (Debian docker-registry) and a real
 * RFC 3161 TSA (openssl ts), through the compiled CLI (bin/vouch; built here when dist/ is missing or
 * older than src/) and, where the verification time must be in the future, through the library's
 * Engine built from the same config (composeConfig + buildRuntime). Issue 3, item 8: generate a test
 * cert; sign with JWS and COSE; verify; unsigned; untrusted signer; expired cert (denied, allowed with
 * a timestamp); tampered signature; payload for another digest; image outside every rule; audit mode.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { composeConfig } from '../../src/config/compose.js';
import { buildRuntime } from '../../src/config/runtime.js';
import { parseReference } from '../../src/reference/parse.js';
import { attachArtifact } from '../../src/referrers/attach.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client.js';
import type { Descriptor, Repository } from '../../src/registry/types.js';
import { createNotationEnvelope, signNotation } from '../../src/sign/notation/index.js';
import { generateTestCertificate, type TestCertificate } from '../../src/sign/notation/testcert.js';
import { pushTestImage } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { startTsa, type TestTsa } from '../helpers/tsa.js';

const ROOT = resolve(import.meta.dirname, '../..');
const VOUCH = join(ROOT, 'bin', 'vouch');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const DAY = 86_400_000;
const execFileAsync = promisify(execFile);
const SIGNATURE = 'application/vnd.cncf.notary.signature';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
interface ReportJson {
  verifier: string;
  outcome: string;
  reason: string;
  message: string;
  details: Record<string, unknown>;
}
interface DecisionJson {
  verified: boolean;
  allowed: boolean;
  isSuccess: boolean;
  mode: string;
  wouldDeny: boolean;
  digest: string;
  rule: string;
  why: string[];
  reports: ReportJson[];
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/ when it is missing or older than src/ (tsc emits even with type errors elsewhere). */
async function ensureBuilt(): Promise<void> {
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestMtime(join(ROOT, 'src'))) return;
  await execFileAsync('npm', ['run', '-s', 'build'], { cwd: ROOT, timeout: 120_000 }).catch(() => undefined);
  if (!existsSync(MAIN)) throw new Error('npm run build did not produce dist/src/cli/main.js');
}

async function vouch(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(VOUCH, args, { cwd: ROOT, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('notation workflow through bin/vouch on a real registry', { timeout: 60_000 }, () => {
  let registry: TestRegistry;
  let tsa: TestTsa;
  let client: RegistryClient;
  let work: string;
  let host: string;
  let notationDir: string;
  let keys: string;
  const images = new Map<string, Descriptor>();

  const repo = (name: string): Repository => client.repository(parseReference(`${host}/${name}:v1`));
  const push = async (name: string): Promise<Descriptor> => {
    const d = await pushTestImage(repo(name), 'v1', `e2e-${name}`);
    images.set(name, d);
    return d;
  };
  const sign = (name: string, key: string, ...extra: string[]) =>
    vouch(
      'sign',
      `${host}/${name}:v1`,
      '--format',
      'notation',
      '--key',
      join(keys, `${key}.key`),
      '--cert',
      join(keys, `${key}.crt`),
      '--insecure-registry',
      host,
      ...extra,
    );
  /** `vouch verify -o json` with the notation config dir (or a vouch.yaml); parsed output. */
  const verify = async (name: string, config?: string): Promise<{ run: Run; json: DecisionJson }> => {
    const trust = config
      ? ['--config', config]
      : ['--notation-dir', notationDir, '--insecure-registry', host];
    const run = await vouch('verify', `${host}/${name}:v1`, ...trust, '-o', 'json');
    let json: DecisionJson;
    try {
      json = JSON.parse(run.stdout) as DecisionJson;
    } catch {
      throw new Error(`verify ${name} printed no JSON (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
    }
    assert.equal(json.digest, images.get(name)?.digest, `${name}: JSON digest is the image's`);
    return { run, json };
  };
  const only = (json: DecisionJson): ReportJson => {
    assert.equal(json.reports.length, 1, JSON.stringify(json.reports));
    const r = json.reports[0] as ReportJson;
    assert.equal(r.verifier, 'notation');
    return r;
  };
  /** Signs with the library (for what the CLI cannot do: times in the past, tampering) and attaches. */
  const attachEnvelope = async (name: string, bytes: Uint8Array, mediaType: string) =>
    attachArtifact(repo(name), {
      subject: images.get(name) as Descriptor,
      artifactType: SIGNATURE,
      layers: [{ bytes, mediaType }],
    });

  before(async () => {
    const built = ensureBuilt();
    [registry, tsa] = await Promise.all([startRegistry(), startTsa()]);
    await built;
    host = registry.host;
    client = createRegistryClient({ insecureHosts: [host] });
    work = await mkdtemp(join(tmpdir(), 'vouch-e2e-notation-'));
    keys = join(work, 'keys');
    notationDir = join(work, 'notation');

    // 1. Test certificates, the way a user makes them.
    const generated = await Promise.all([
      vouch('cert', 'generate-test', 'acme', '--out', keys),
      vouch('cert', 'generate-test', 'mallory', '--out', keys),
      vouch('cert', 'generate-test', 'shortlived', '--out', keys, '--days', '1'),
    ]);
    for (const g of generated) assert.equal(g.code, 0, g.stderr);
    assert.match(await readFile(join(keys, 'acme.key'), 'utf8'), /BEGIN PRIVATE KEY/);

    // notation's config dir: trustpolicy.json + truststore/x509/{ca,tsa}/<name>/*.crt. mallory is not in it.
    const ca = join(notationDir, 'truststore', 'x509', 'ca', 'acme');
    const tsaStore = join(notationDir, 'truststore', 'x509', 'tsa', 'test');
    await mkdir(ca, { recursive: true });
    await mkdir(tsaStore, { recursive: true });
    for (const name of ['acme', 'shortlived'])
      await writeFile(join(ca, `${name}.crt`), await readFile(join(keys, `${name}.crt`)));
    await writeFile(join(tsaStore, 'root.pem'), tsa.rootPem);
    const statement = (name: string, scopes: string[], level: string, stores = ['ca:acme']) => ({
      name,
      registryScopes: scopes,
      signatureVerification: { level },
      ...(level === 'skip'
        ? {}
        : { trustStores: stores, trustedIdentities: ['x509.subject: C=US, ST=WA, O=Notary'] }),
    });
    await writeFile(
      join(notationDir, 'trustpolicy.json'),
      JSON.stringify({
        version: '1.0',
        trustPolicies: [
          statement('timestamped', [`${host}/timestamped`], 'strict', ['ca:acme', 'tsa:test']),
          statement('notation-audit', [`${host}/notation-audit`, `${host}/notation-audit-unsigned`], 'audit'),
          statement('skipped', [`${host}/skipped`], 'skip'),
          statement('everything', ['*'], 'strict'),
        ],
      }),
    );
    const yaml = (dflt: string) =>
      `registries:\n  insecure: ["${host}"]\nverifiers:\n  notation:\n    configDir: ./notation\n` +
      `policy:\n  default: ${dflt}\n  rules:\n` +
      `    - name: signed\n      scope: "${host}/signed-*"\n      require: [{ verifier: notation }]\n` +
      `    - name: audited\n      scope: "${host}/audited"\n      mode: audit\n      require: [{ verifier: notation }]\n`;
    await writeFile(join(work, 'deny.yaml'), yaml('deny'));
    await writeFile(join(work, 'allow.yaml'), yaml('allow'));

    for (const name of [
      'signed-jws',
      'signed-cose',
      'unsigned',
      'untrusted',
      'expired',
      'timestamped',
      'expiring',
      'tampered',
      'mismatch',
      'outside',
      'audited',
      'notation-audit',
      'notation-audit-unsigned',
      'skipped',
    ])
      await push(name);
  });
  after(async () => {
    await client?.close();
    await Promise.all([registry?.stop(), tsa?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('signs one image with JWS and one with COSE, and both verify (exit 0)', async () => {
    for (const [name, envelope] of [
      ['signed-jws', 'jws'],
      ['signed-cose', 'cose'],
    ] as const) {
      const signed = await sign(name, 'acme', '--envelope', envelope);
      assert.equal(signed.code, 0, signed.stderr);
      const { run, json } = await verify(name);
      assert.equal(run.code, 0, run.stdout);
      assert.equal(json.verified, true);
      assert.equal(json.allowed, true);
      const r = only(json);
      assert.equal(r.outcome, 'verified');
      assert.equal(r.reason, 'ok');
      assert.match(
        r.message,
        /signature by "CN=acme,O=Notary,L=Seattle,ST=WA,C=US" verified under trust policy "everything"/,
      );
      assert.equal(r.details.envelope, envelope);
    }
  });

  it('denies an unsigned image: no signature (exit 1)', async () => {
    const { run, json } = await verify('unsigned');
    assert.equal(run.code, 1);
    assert.equal(json.verified, false);
    assert.equal(json.allowed, false);
    assert.deepEqual(json.reports, []);
    assert.match(json.why.join('\n'), /notation: no signature found/);
    const text = await vouch(
      'verify',
      `${host}/unsigned:v1`,
      '--notation-dir',
      notationDir,
      '--insecure-registry',
      host,
    );
    assert.equal(text.code, 1);
    assert.match(text.stdout, /DENIED/);
    assert.match(text.stdout, /next step sign the image/);
  });

  it('denies an image signed by a certificate no trust store holds: untrusted signer (exit 1)', async () => {
    assert.equal((await sign('untrusted', 'mallory')).code, 0);
    const { run, json } = await verify('untrusted');
    assert.equal(run.code, 1);
    assert.equal(json.verified, false);
    const r = only(json);
    assert.equal(r.outcome, 'failed');
    assert.equal(r.reason, 'untrusted-signer');
    assert.match(r.message, /signature is not produced by a trusted signer/);
  });

  it('denies a signature whose certificate has expired (exit 1, expired)', async () => {
    // A certificate valid last month, trusted, that signed while it was valid.
    const lastMonth = Date.now() - 30 * DAY;
    const old: TestCertificate = await generateTestCertificate({
      name: 'acme-2025',
      notBefore: new Date(lastMonth),
      notAfter: new Date(lastMonth + 7 * DAY),
    });
    await writeFile(join(notationDir, 'truststore', 'x509', 'ca', 'acme', 'acme-2025.crt'), old.certPem);
    await signNotation({
      repository: repo('expired'),
      subject: images.get('expired') as Descriptor,
      keyPem: old.keyPem,
      certChainPem: old.certPem,
      envelope: 'cose',
      now: new Date(lastMonth + DAY),
    });
    const { run, json } = await verify('expired');
    assert.equal(run.code, 1);
    assert.equal(json.verified, false);
    const r = only(json);
    assert.equal(r.outcome, 'failed');
    assert.equal(r.reason, 'expired');
    assert.match(r.message, /expired certificate/);
  });

  it('allows a signature by an expired certificate when a trusted timestamp falls inside its validity', async () => {
    // shortlived is valid for one day; judge both signatures two days from now.
    const stamped = await sign('timestamped', 'shortlived', '--timestamp-url', tsa.url);
    assert.equal(stamped.code, 0, stamped.stderr);
    assert.ok(tsa.requests() >= 1, 'the signer asked the TSA');
    assert.equal((await sign('expiring', 'shortlived')).code, 0);
    // Today, through the CLI, the timestamped signature verifies.
    const today = await verify('timestamped');
    assert.equal(today.run.code, 0, today.run.stdout);

    const loaded = await composeConfig({ flags: { notationDir, insecureRegistry: [host] } });
    const runtime = await buildRuntime(loaded.config, { baseDir: loaded.baseDir });
    try {
      const later = new Date(Date.now() + 2 * DAY);
      const decide = (name: string) =>
        runtime.engine.decide(`${host}/${name}:v1`, { signal: AbortSignal.timeout(20_000), now: later });
      const withTs = await decide('timestamped');
      assert.equal(withTs.allowed, true, withTs.why.join('; '));
      assert.equal(withTs.verified, true);
      assert.equal(withTs.subject.digest, images.get('timestamped')?.digest);
      const r = withTs.reports[0];
      assert.equal(r?.outcome, 'verified');
      assert.equal(typeof r?.details.timestamp, 'string');
      assert.ok(Date.parse(String(r?.details.timestamp)) < later.getTime() - DAY, 'stamped at signing');

      const withoutTs = await decide('expiring');
      assert.equal(withoutTs.allowed, false);
      assert.equal(withoutTs.reports[0]?.reason, 'expired');
      assert.match(withoutTs.reports[0]?.message ?? '', /expired/);
    } finally {
      await runtime.close();
    }
  });

  it('denies a tampered signature blob (integrity) and a payload naming another digest', async () => {
    const acme = {
      keyPem: await readFile(join(keys, 'acme.key'), 'utf8'),
      certChainPem: await readFile(join(keys, 'acme.crt'), 'utf8'),
    };
    // Tampered: a valid JWS for this image whose signature was altered after signing.
    const good = await createNotationEnvelope({
      ...acme,
      subject: images.get('tampered') as Descriptor,
      envelope: 'jws',
    });
    const doc = JSON.parse(Buffer.from(good.bytes).toString('utf8')) as { signature: string };
    const i = 20;
    doc.signature =
      doc.signature.slice(0, i) + (doc.signature[i] === 'A' ? 'B' : 'A') + doc.signature.slice(i + 1);
    await attachEnvelope('tampered', new TextEncoder().encode(JSON.stringify(doc)), good.mediaType);
    // Mismatch: a valid signature of `outside`, attached to `mismatch`.
    const other = await createNotationEnvelope({
      ...acme,
      subject: images.get('outside') as Descriptor,
      envelope: 'cose',
    });
    await attachEnvelope('mismatch', other.bytes, other.mediaType);

    const tampered = await verify('tampered');
    assert.equal(tampered.run.code, 1);
    assert.equal(tampered.json.verified, false);
    const t = only(tampered.json);
    assert.equal(t.outcome, 'failed');
    assert.equal(t.reason, 'integrity');
    assert.match(t.message, /signature is invalid/);

    const mismatch = await verify('mismatch');
    assert.equal(mismatch.run.code, 1);
    const m = only(mismatch.json);
    assert.equal(m.outcome, 'failed');
    assert.equal(m.reason, 'digest-mismatch');
    assert.match(m.message, new RegExp(`payload names .*${images.get('outside')?.digest}`));
  });

  it("applies the policy default to an image outside every rule's scope", async () => {
    assert.equal((await sign('outside', 'acme')).code, 0);
    const denied = await verify('outside', join(work, 'deny.yaml'));
    assert.equal(denied.run.code, 1);
    assert.equal(denied.json.rule, 'default');
    assert.equal(denied.json.allowed, false);
    assert.equal(denied.json.verified, false);
    assert.match(denied.json.why.join('\n'), /no policy rule matches this image; the default denies it/);
    const allowed = await verify('outside', join(work, 'allow.yaml'));
    assert.equal(allowed.run.code, 0);
    assert.equal(allowed.json.rule, 'default');
    assert.equal(allowed.json.allowed, true);
    // The same file's scoped rule still applies to the images it names.
    const inScope = await verify('signed-jws', join(work, 'deny.yaml'));
    assert.equal(inScope.run.code, 0);
    assert.equal(inScope.json.rule, 'signed');
    assert.equal(only(inScope.json).outcome, 'verified');
  });

  it('audit mode allows, and reports what enforce would deny', async () => {
    assert.equal((await sign('audited', 'mallory')).code, 0);
    const { run, json } = await verify('audited', join(work, 'deny.yaml'));
    assert.equal(run.code, 0, run.stdout);
    assert.equal(json.rule, 'audited');
    assert.equal(json.allowed, true);
    assert.equal(json.verified, false);
    // the CLI's isSuccess is `verified`, never `allowed` (docs/architecture.md, verify-output.md)
    assert.equal(json.isSuccess, false);
    assert.equal(json.mode, 'audit');
    assert.equal(json.wouldDeny, true);
    const r = only(json);
    assert.equal(r.outcome, 'failed');
    assert.equal(r.reason, 'untrusted-signer');
    assert.match(json.why.join('\n'), /audit mode: allowed, but enforce would deny/);
  });

  it("honours notation's own levels: audit logs an untrusted signer and allows the unsigned, skip needs nothing", async () => {
    // notation's audit level only logs authenticity failures: the signature is accepted, with a note.
    assert.equal((await sign('notation-audit', 'mallory')).code, 0);
    const logged = await verify('notation-audit');
    assert.equal(logged.run.code, 0, logged.run.stdout);
    assert.equal(logged.json.allowed, true);
    const r = only(logged.json);
    assert.equal(r.outcome, 'verified');
    assert.match(r.message, /with 1 logged failure\(s\): signature is not produced by a trusted signer/);
    // Under the same statement, an image with no signature is allowed and reported (scopePolicy audit).
    const audit = await verify('notation-audit-unsigned');
    assert.equal(audit.run.code, 0, audit.run.stdout);
    assert.equal(audit.json.allowed, true);
    assert.equal(audit.json.verified, false);
    assert.equal(audit.json.wouldDeny, true);
    assert.equal(audit.json.mode, 'audit');
    assert.match(
      audit.json.why.join('\n'),
      /no signature found \(audit by its policy "notation-audit": allowed\)/,
    );

    const skipped = await verify('skipped');
    assert.equal(skipped.run.code, 0, skipped.run.stdout);
    assert.equal(skipped.json.allowed, true);
    assert.deepEqual(skipped.json.reports, []);
    assert.match(skipped.json.why.join('\n'), /not required by its policy "skipped"/);
  });
});
