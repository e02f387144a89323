/**
 * Detached signatures through bin/vouch (the compiled CLI) on the real registry:
 * `vouch sign --output-signature` writes a cosign bundle, a cosign legacy pair or a notation
 * envelope with its descriptor and leaves the registry as it was; `vouch verify --signature-path`
 * accepts the files for their image only, under the same trust policy, refuses tampered files and
 * names every bad input; `--upload-signatures`, `--also-registry` and `--offline` do what they say.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseReference } from '../../src/reference/parse.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client.js';
import type { Descriptor, Repository } from '../../src/registry/types.js';
import { buildTestImage, pushTestImage, writeTestLayout } from '../helpers/images.js';
import { writeNotationDir } from '../helpers/notation-dir.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const ROOT = resolve(import.meta.dirname, '../..');
const VOUCH = join(ROOT, 'bin', 'vouch');
const execFileAsync = promisify(execFile);
const ENV = { ...process.env, COSIGN_PASSWORD: 'detached-test' };
const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function vouch(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(VOUCH, args, { cwd: ROOT, timeout: 60_000, env: ENV });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

interface JsonDecision {
  allowed: boolean;
  reports: Array<{
    verifier: string;
    outcome: string;
    reason: string;
    message: string;
    details: Record<string, unknown>;
    artifact: { digest: string };
  }>;
  signatureFiles?: Array<{ path: string; digest: string }>;
}

function json(run: Run): JsonDecision {
  assert.ok(run.stdout.trim().startsWith('{'), `not JSON: ${run.stdout} ${run.stderr}`);
  return JSON.parse(run.stdout) as JsonDecision;
}

describe('detached signatures: vouch sign --output-signature and vouch verify --signature-path', {
  timeout: 240_000,
}, () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let work: string;
  let insecure: string[];
  let cosignKey: string[];
  let notationKey: string[];
  let notationDir: string;
  const images: Record<string, Descriptor> = {};
  const repos: Record<string, Repository> = {};
  const ref = (name: string) => `${registry.host}/detached/${name}:v1`;
  const file = (name: string) => join(work, name);
  const cosignTrust = () => [...insecure, '--key', file('k/cosign.pub')];
  const notationTrust = () => [...insecure, '--notation-dir', notationDir];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'vouch-cli-detached-'));
    if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'sign-detached.js')))
      await execFileAsync('npm', ['run', '-s', 'build'], { cwd: ROOT, timeout: 120_000 });
    registry = await startRegistry();
    insecure = ['--insecure-registry', registry.host];
    client = createRegistryClient({ insecureHosts: [registry.host] });
    for (const name of ['a', 'b', 'up', 'legacyup', 'both', 'dir']) {
      repos[name] = client.repository(parseReference(ref(name)));
      images[name] = await pushTestImage(repos[name] as Repository, 'v1', `detached-${name}`);
    }
    const keygen = await vouch('keygen', '--format', 'cosign', '--out', file('k'));
    assert.equal(keygen.code, 0, keygen.stderr);
    const cert = await vouch('cert', 'generate-test', 'detached.test', '--out', file('nk'));
    assert.equal(cert.code, 0, cert.stderr);
    notationDir = await writeNotationDir(
      file('notation'),
      await readFile(file('nk/detached.test.crt'), 'utf8'),
      'detached',
    );
    cosignKey = ['--format', 'cosign', '--key', file('k/cosign.key')];
    notationKey = [
      '--format',
      'notation',
      '--key',
      file('nk/detached.test.key'),
      '--cert',
      file('nk/detached.test.crt'),
    ];
    const signs = [
      [...cosignKey, '--output-signature', file('a.bundle.json'), ref('a')],
      [...cosignKey, '--legacy', '--output-signature', file('a.sig'), ref('a')],
      [...notationKey, '--output-signature', file('a.jws'), ref('a')],
      [...notationKey, '--envelope', 'cose', '--output-signature', file('a.cose'), ref('a')],
    ];
    for (const args of signs) {
      const out = await vouch('sign', ...insecure, ...args);
      assert.equal(out.code, 0, out.stderr);
    }
  });

  after(async () => {
    await client?.close();
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  describe('when signing with --output-signature', () => {
    it('writes a sigstore bundle v0.3 over a DSSE statement naming the image digest', async () => {
      const bundle = JSON.parse(await readFile(file('a.bundle.json'), 'utf8'));
      assert.equal(bundle.mediaType, BUNDLE_V03);
      const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
      assert.equal(`sha256:${statement.subject[0].digest.sha256}`, images.a?.digest);
    });

    it('with --legacy, writes the base64 signature and the simple-signing payload next to it', async () => {
      const sig = await readFile(file('a.sig'), 'utf8');
      assert.match(sig, /^[A-Za-z0-9+/]+=*$/);
      const payload = JSON.parse(await readFile(file('a.sig.payload'), 'utf8'));
      assert.equal(payload.critical.image['docker-manifest-digest'], images.a?.digest);
      assert.equal(payload.critical.identity['docker-reference'], `${registry.host}/detached/a`);
    });

    it('for notation, writes the envelope and a descriptor naming the subject and the envelope', async () => {
      const envelope = await readFile(file('a.jws'));
      const d = JSON.parse(await readFile(file('a.jws.json'), 'utf8'));
      assert.equal(d.mediaType, 'application/vnd.vouch.detached-signature.v1+json');
      assert.equal(d.artifactType, 'application/vnd.cncf.notary.signature');
      assert.deepEqual(d.subject, {
        mediaType: images.a?.mediaType,
        digest: images.a?.digest,
        size: images.a?.size,
      });
      assert.equal(d.signature.mediaType, 'application/jose+json');
      assert.equal(d.signature.size, envelope.length);
      const cose = JSON.parse(await readFile(file('a.cose.json'), 'utf8'));
      assert.equal(cose.signature.mediaType, 'application/cose');
    });

    it('leaves the registry untouched: no tags, no referrers, no .sig tag', async () => {
      const repo = repos.a as Repository;
      assert.deepEqual(await repo.listTags?.(), ['v1']);
      assert.deepEqual((await repo.referrers(images.a as Descriptor)).descriptors, []);
      const plain = await vouch('verify', ...cosignTrust(), ref('a'));
      assert.equal(plain.code, 1, plain.stdout);
    });
  });

  describe('when verifying against the files', () => {
    it('allows the image with its cosign bundle, naming the file', async () => {
      const out = await vouch(
        'verify',
        ...cosignTrust(),
        '--signature-path',
        file('a.bundle.json'),
        ref('a'),
        '-o',
        'json',
      );
      assert.equal(out.code, 0, out.stdout + out.stderr);
      const d = json(out);
      assert.equal(d.signatureFiles?.[0]?.path, file('a.bundle.json'));
      assert.deepEqual(
        d.reports.map((r) => [r.verifier, r.outcome, r.artifact.digest]),
        [['cosign', 'verified', d.signatureFiles?.[0]?.digest]],
      );
    });

    it('allows the image with its --legacy pair, named by either file', async () => {
      for (const path of [file('a.sig'), file('a.sig.payload')]) {
        const out = await vouch('verify', ...cosignTrust(), '--signature-path', path, ref('a'), '-o', 'json');
        assert.equal(out.code, 0, out.stdout + out.stderr);
        assert.deepEqual(
          json(out).reports.map((r) => r.outcome),
          ['verified'],
        );
      }
    });

    it('allows the image with its notation JWS and COSE signatures', async () => {
      for (const path of [file('a.jws'), file('a.cose')]) {
        const out = await vouch(
          'verify',
          ...notationTrust(),
          '--signature-path',
          path,
          ref('a'),
          '-o',
          'json',
        );
        assert.equal(out.code, 0, out.stdout + out.stderr);
        assert.deepEqual(
          json(out).reports.map((r) => [r.verifier, r.outcome]),
          [['notation', 'verified']],
        );
      }
    });

    it('denies another image with the signatures of the first (digest-mismatch), cosign and notation', async () => {
      for (const path of [file('a.bundle.json'), file('a.sig')]) {
        const out = await vouch('verify', ...cosignTrust(), '--signature-path', path, ref('b'), '-o', 'json');
        assert.equal(out.code, 1, out.stdout);
        assert.deepEqual(
          json(out).reports.map((r) => [r.outcome, r.reason]),
          [['failed', 'digest-mismatch']],
        );
      }
      const out = await vouch(
        'verify',
        ...notationTrust(),
        '--signature-path',
        file('a.jws'),
        ref('b'),
        '-o',
        'json',
      );
      assert.equal(out.code, 1, out.stdout);
      const [report] = json(out).reports;
      assert.equal(report?.outcome, 'failed');
      assert.notEqual(report?.reason, 'ok');
    });

    it('denies a tampered cosign bundle and a tampered legacy signature (invalid-signature)', async () => {
      const bundle = JSON.parse(await readFile(file('a.bundle.json'), 'utf8'));
      const sig = Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64');
      sig[sig.length >> 1] = (sig[sig.length >> 1] as number) ^ 1;
      bundle.dsseEnvelope.signatures[0].sig = sig.toString('base64');
      await writeFile(file('tampered.bundle.json'), JSON.stringify(bundle));
      await mkdir(file('tampered-legacy'));
      const payload = JSON.parse(await readFile(file('a.sig.payload'), 'utf8'));
      payload.critical.identity['docker-reference'] = 'evil.example/app';
      await cp(file('a.sig'), file('tampered-legacy/x.sig'));
      await writeFile(file('tampered-legacy/x.sig.payload'), JSON.stringify(payload));
      for (const path of [file('tampered.bundle.json'), file('tampered-legacy')]) {
        const out = await vouch('verify', ...cosignTrust(), '--signature-path', path, ref('a'), '-o', 'json');
        assert.equal(out.code, 1, out.stdout);
        const [report] = json(out).reports;
        assert.equal(report?.outcome, 'failed');
        assert.match(report?.reason ?? '', /invalid-signature|untrusted-signer/);
      }
    });

    it('denies a notation envelope that does not match its descriptor (digest-mismatch), or whose signature was altered', async () => {
      const jws = JSON.parse(await readFile(file('a.jws'), 'utf8'));
      const last = jws.signature.at(-2) === 'A' ? 'B' : 'A';
      jws.signature = `${jws.signature.slice(0, -2)}${last}${jws.signature.slice(-1)}`;
      await mkdir(file('tampered-notation'));
      await writeFile(file('tampered-notation/x.jws'), JSON.stringify(jws));
      await cp(file('a.jws.json'), file('tampered-notation/x.jws.json'));
      const out = await vouch(
        'verify',
        ...notationTrust(),
        '--signature-path',
        file('tampered-notation'),
        ref('a'),
        '-o',
        'json',
      );
      assert.equal(out.code, 1, out.stdout);
      const [mismatch] = json(out).reports;
      assert.deepEqual([mismatch?.outcome, mismatch?.reason], ['failed', 'digest-mismatch']);
      assert.match(mismatch?.message ?? '', /does not match the digest its descriptor records/);
      assert.equal(mismatch?.details.failedCheck, undefined);
      // the descriptor rewritten to the altered envelope: the signature itself fails
      const { createHash } = await import('node:crypto');
      const bytes = await readFile(file('tampered-notation/x.jws'));
      const d = JSON.parse(await readFile(file('a.jws.json'), 'utf8'));
      d.signature.digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      d.signature.size = bytes.length;
      await writeFile(file('tampered-notation/x.jws.json'), JSON.stringify(d));
      const again = await vouch(
        'verify',
        ...notationTrust(),
        '--signature-path',
        file('tampered-notation'),
        ref('a'),
        '-o',
        'json',
      );
      assert.equal(again.code, 1, again.stdout);
      const [report] = json(again).reports;
      assert.equal(report?.outcome, 'failed');
      // the envelope was read and its signature checked: notation's integrity check failed
      assert.equal(report?.details.failedCheck, 'integrity');
      assert.doesNotMatch(report?.message ?? '', /descriptor/);
    });

    it('verifies every signature of a directory, companions read with their signature', async () => {
      await mkdir(file('all'));
      for (const name of ['a.bundle.json', 'a.sig', 'a.sig.payload', 'a.jws', 'a.jws.json']) {
        await cp(file(name), file(`all/${name}`));
      }
      const out = await vouch(
        'verify',
        ...cosignTrust(),
        '--notation-dir',
        notationDir,
        '--signature-path',
        file('all'),
        ref('a'),
        '-o',
        'json',
      );
      assert.equal(out.code, 0, out.stdout + out.stderr);
      const d = json(out);
      assert.deepEqual(d.signatureFiles?.map((f) => f.path).sort(), [
        file('all/a.bundle.json'),
        file('all/a.jws'),
        file('all/a.sig'),
      ]);
      assert.deepEqual(d.reports.map((r) => `${r.verifier}:${r.outcome}`).sort(), [
        'cosign:verified',
        'cosign:verified',
        'notation:verified',
      ]);
    });
  });

  describe('when uploading or mixing with the registry', () => {
    it('--upload-signatures writes the bundle and attaches it, after which a plain verify allows', async () => {
      const sign = await vouch(
        'sign',
        ...insecure,
        ...cosignKey,
        '--output-signature',
        file('up.json'),
        '--upload-signatures',
        ref('up'),
      );
      assert.equal(sign.code, 0, sign.stderr);
      assert.ok(existsSync(file('up.json')));
      const referrers = await (repos.up as Repository).referrers(images.up as Descriptor);
      assert.equal(referrers.source, 'referrers-tag');
      assert.deepEqual(
        referrers.descriptors.map((r) => r.artifactType),
        [BUNDLE_V03],
      );
      const out = await vouch('verify', ...cosignTrust(), ref('up'));
      assert.equal(out.code, 0, out.stdout);
    });

    it('--upload-signatures --legacy appends the same signature to the .sig tag', async () => {
      const sign = await vouch(
        'sign',
        ...insecure,
        ...cosignKey,
        '--legacy',
        '--output-signature',
        file('lu.sig'),
        '--upload-signatures',
        ref('legacyup'),
      );
      assert.equal(sign.code, 0, sign.stderr);
      const tags = await (repos.legacyup as Repository).listTags?.();
      assert.ok(tags?.includes(`${images.legacyup?.digest.replace(':', '-')}.sig`), String(tags));
      const out = await vouch('verify', ...cosignTrust(), ref('legacyup'));
      assert.equal(out.code, 0, out.stdout);
    });

    it('--also-registry counts the registry signatures besides the files; without it they are not read', async () => {
      const sign = await vouch('sign', ...insecure, ...cosignKey, ref('both'));
      assert.equal(sign.code, 0, sign.stderr);
      const nsign = await vouch(
        'sign',
        ...insecure,
        ...notationKey,
        '--output-signature',
        file('both.jws'),
        ref('both'),
      );
      assert.equal(nsign.code, 0, nsign.stderr);
      // the policy from flags requires both formats: cosign is in the registry, notation in a file
      const args = [
        ...cosignTrust(),
        '--notation-dir',
        notationDir,
        '--signature-path',
        file('both.jws'),
        ref('both'),
      ];
      const filesOnly = await vouch('verify', ...args, '-o', 'json');
      assert.equal(filesOnly.code, 1, filesOnly.stdout);
      assert.deepEqual(
        json(filesOnly).reports.map((r) => r.verifier),
        ['notation'],
      );
      const both = await vouch('verify', ...args, '--also-registry', '-o', 'json');
      assert.equal(both.code, 0, both.stdout);
      assert.deepEqual(
        json(both)
          .reports.map((r) => `${r.verifier}:${r.outcome}`)
          .sort(),
        ['cosign:verified', 'notation:verified'],
      );
    });
  });

  describe('when offline', () => {
    it('verifies an OCI layout image against files, the layout unchanged by signing', async () => {
      const layout = file('layout');
      const image = buildTestImage('detached-layout');
      await writeTestLayout(layout, image, 'v1');
      const index = await readFile(join(layout, 'index.json'), 'utf8');
      for (const [args, out] of [
        [cosignKey, file('layout.bundle.json')],
        [notationKey, file('layout.jws')],
      ] as const) {
        const sign = await vouch('sign', ...args, '--output-signature', out, `oci:${layout}:v1`);
        assert.equal(sign.code, 0, sign.stderr);
      }
      assert.equal(await readFile(join(layout, 'index.json'), 'utf8'), index);
      const out = await vouch(
        'verify',
        '--key',
        file('k/cosign.pub'),
        '--notation-dir',
        notationDir,
        '--signature-path',
        file('layout.bundle.json'),
        '--signature-path',
        file('layout.jws'),
        '--offline',
        `oci:${layout}:v1`,
      );
      assert.equal(out.code, 0, out.stdout + out.stderr);
      const unsigned = await vouch('verify', '--key', file('k/cosign.pub'), `oci:${layout}:v1`);
      assert.equal(unsigned.code, 1, unsigned.stdout);
    });

    it('verifies IMAGE@digest --offline without contacting the registry (a closed port)', async () => {
      const gone = `127.0.0.1:9/detached/a@${images.a?.digest}`;
      const args = [
        '--insecure-registry',
        '127.0.0.1:9',
        '--key',
        file('k/cosign.pub'),
        '--notation-dir',
        notationDir,
      ];
      const out = await vouch(
        'verify',
        ...args,
        '--signature-path',
        file('a.bundle.json'),
        '--signature-path',
        file('a.jws'),
        '--offline',
        gone,
        '-o',
        'json',
      );
      assert.equal(out.code, 0, out.stdout + out.stderr);
      assert.equal(json(out).reports.length, 2);
      // without --offline the subject is resolved from the (unreachable) registry: could not complete
      const online = await vouch('verify', ...args, '--signature-path', file('a.bundle.json'), gone);
      assert.equal(online.code, 3, online.stdout + online.stderr);
      const tagged = await vouch(
        'verify',
        ...args,
        '--signature-path',
        file('a.bundle.json'),
        '--offline',
        '127.0.0.1:9/detached/a:v1',
      );
      assert.equal(tagged.code, 2);
      assert.match(tagged.stderr, /--offline needs the image's digest/);
    });
  });

  describe('when the input is bad', () => {
    it('names a missing path, a non-signature file, an empty directory and a lone envelope or signature (exit 2)', async () => {
      await writeFile(file('hello.txt'), 'hello, not a signature\n');
      await mkdir(file('empty'));
      await mkdir(file('lone'));
      await cp(file('a.jws'), file('lone/x.jws'));
      await mkdir(file('lone-sig'));
      await cp(file('a.sig'), file('lone-sig/x.sig'));
      await mkdir(file('mixed'));
      await cp(file('a.bundle.json'), file('mixed/a.bundle.json'));
      await writeFile(file('mixed/README'), 'notes: these are signatures\n');
      const cases: Array<[string, RegExp]> = [
        [file('missing.json'), /missing\.json: no such file or directory \[USAGE\]/],
        [file('hello.txt'), /hello\.txt is not a signature file/],
        [file('empty'), /the directory has no files/],
        [file('lone'), /x\.jws looks like a notation envelope, but its descriptor .*x\.jws\.json is missing/],
        [file('lone-sig'), /x\.sig looks like a cosign signature, but .*x\.sig\.payload is missing/],
        [file('mixed'), /README is not a signature file/],
      ];
      for (const [path, message] of cases) {
        const out = await vouch('verify', ...cosignTrust(), '--signature-path', path, ref('a'));
        assert.equal(out.code, 2, `${path}: ${out.stdout}${out.stderr}`);
        assert.match(out.stderr, message);
      }
    });

    it('refuses a descriptor that is not valid and flags out of place (exit 2)', async () => {
      await mkdir(file('baddesc'));
      await cp(file('a.jws'), file('baddesc/x.jws'));
      await writeFile(
        file('baddesc/x.jws.json'),
        JSON.stringify({ mediaType: 'application/vnd.vouch.detached-signature.v1+json', subject: {} }),
      );
      const bad = await vouch('verify', ...notationTrust(), '--signature-path', file('baddesc'), ref('a'));
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /x\.jws\.json is not a vouch notation signature descriptor/);
      const cases: Array<[string[], RegExp]> = [
        [['verify', ...cosignTrust(), '--also-registry', ref('a')], /--also-registry needs --signature-path/],
        [
          [
            'verify',
            ...cosignTrust(),
            '--signature-path',
            file('a.sig'),
            '--also-registry',
            '--offline',
            ref('a'),
          ],
          /exclude each other/,
        ],
        [
          ['sign', ...insecure, ...cosignKey, '--upload-signatures', ref('a')],
          /goes with --output-signature/,
        ],
        [
          ['sign', ...insecure, ...notationKey, '--legacy', '--output-signature', file('n.sig'), ref('a')],
          /--legacy is for --format cosign/,
        ],
        [
          ['sign', ...insecure, '--format', 'atproto', '--output-signature', file('x'), ref('a')],
          /--output-signature is for --format cosign or notation/,
        ],
      ];
      for (const [args, message] of cases) {
        const out = await vouch(...args);
        assert.equal(out.code, 2, `${args.join(' ')}: ${out.stderr}`);
        assert.match(out.stderr, message);
      }
      assert.ok(!existsSync(file('n.sig')));
    });
  });
});
