/**
 * Imports end to end through bin/vouch on the real registry: a Ratify config.json read as it is
 * (`verify --ratify-config`, `serve --ratify-config`), Ratify v1beta1 resources with inline key
 * and certificate providers, and a ClusterImagePolicy with an inline key, imported into vouch.yaml
 * files that load and decide as the original intends: the image signed by the trusted key (or
 * certificate) is allowed, the unsigned one denied. Unsupported constructs fail with their names.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadConfigFile } from '../../src/config/load.js';
import { parseReference } from '../../src/reference/parse.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client.js';
import { stopChild } from '../helpers/child.js';
import { pushTestImage } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const ROOT = resolve(import.meta.dirname, '../..');
const VOUCH = join(ROOT, 'bin', 'vouch');
const FIXTURES = join(import.meta.dirname, 'fixtures');
const execFileAsync = promisify(execFile);
const ENV = { ...process.env, COSIGN_PASSWORD: 'import-test' };
const RATIFY_MIRROR = process.env.VOUCH_RATIFY_MIRROR ?? '/work/.mirror/ratify-project+ratify/repo';

/** A file of Ratify v1.4.0 read in place from the fetched mirror (nothing of it is committed). */
const ratifySample = (name: string) =>
  execFileSync('git', ['--git-dir', RATIFY_MIRROR, 'show', `v1.4.0:${name}`], { encoding: 'utf8' });

/** An inline KeyManagementProvider of our own, under the name a Ratify sample refers to. */
function inlineProvider(name: string, contentType: 'key' | 'certificate', pem: string): string {
  const value = pem
    .trim()
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
  return `apiVersion: config.ratify.deislabs.io/v1beta1\nkind: KeyManagementProvider\nmetadata:\n  name: ${name}\nspec:\n  type: inline\n  parameters:\n    contentType: ${contentType}\n    value: |\n${value}\n`;
}

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

/** A fixture with its placeholders filled; PEM placeholders keep the fixture's indentation. */
async function fill(name: string, values: Record<string, string>, dest: string): Promise<string> {
  let text = await readFile(join(FIXTURES, name), 'utf8');
  for (const [k, v] of Object.entries(values)) {
    text = text.replace(new RegExp(`^( *)${k}$`, 'gm'), (_, indent: string) =>
      v
        .trim()
        .split('\n')
        .map((l) => indent + l)
        .join('\n'),
    );
    text = text.replaceAll(k, v);
  }
  await writeFile(dest, text);
  return dest;
}

describe('imports decide like the original configuration (bin/vouch, real registry)', {
  timeout: 240_000,
}, () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let work: string;
  let publicKey: string;
  let certificate: string;
  const ref = (name: string) => `${registry.host}/import/${name}:v1`;
  const file = (name: string) => join(work, name);
  const verify = (target: string, ...args: string[]) => vouch('verify', target, ...args);

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'vouch-import-e2e-'));
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js')))
      await execFileAsync('npm', ['run', '-s', 'build'], { cwd: ROOT, timeout: 120_000 });
    registry = await startRegistry();
    client = createRegistryClient({ insecureHosts: [registry.host] });
    for (const name of ['cosign', 'notation', 'unsigned'])
      await pushTestImage(client.repository(parseReference(ref(name))), 'v1', `import-${name}`);
    const keygen = await vouch('keygen', '--format', 'cosign', '--out', file('keys'));
    assert.equal(keygen.code, 0, keygen.stderr);
    publicKey = await readFile(file('keys/cosign.pub'), 'utf8');
    const cert = await vouch('cert', 'generate-test', 'import.test', '--out', file('nk'));
    assert.equal(cert.code, 0, cert.stderr);
    certificate = await readFile(file('nk/import.test.crt'), 'utf8');
    const insecure = ['--insecure-registry', registry.host];
    const signs = [
      ['--format', 'cosign', '--key', file('keys/cosign.key'), ref('cosign')],
      [
        '--format',
        'notation',
        '--key',
        file('nk/import.test.key'),
        '--cert',
        file('nk/import.test.crt'),
        ref('notation'),
      ],
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

  describe('vouch verify --ratify-config config.json', () => {
    it('allows the image signed by the legacy cosign key and denies the unsigned one (useHttp: the image host)', async () => {
      await copyFile(join(FIXTURES, 'ratify-cosign-key.json'), file('ratify.json'));
      const ok = await verify(ref('cosign'), '--ratify-config', file('ratify.json'), '-o', 'json');
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      const d = JSON.parse(ok.stdout);
      assert.equal(d.allowed, true);
      assert.ok(
        d.reports.some(
          (r: { verifier: string; outcome: string }) => r.verifier === 'cosign' && r.outcome === 'verified',
        ),
      );
      const denied = await verify(ref('unsigned'), '--ratify-config', file('ratify.json'));
      assert.equal(denied.code, 1, denied.stdout + denied.stderr);
      // the notation-signed image carries no cosign signature: denied too
      assert.equal((await verify(ref('notation'), '--ratify-config', file('ratify.json'))).code, 1);
    });

    it('refuses a Rego policy, naming it, and --config together with --ratify-config', async () => {
      await copyFile(join(FIXTURES, 'ratify-rego.json'), file('rego.json'));
      const rego = await verify(ref('cosign'), '--ratify-config', file('rego.json'));
      assert.equal(rego.code, 2);
      assert.match(rego.stderr, /rego\.json: policy\.plugin: rego policy: vouch policy rules are not Rego/);
      const both = await verify(
        ref('cosign'),
        '--ratify-config',
        file('rego.json'),
        '--config',
        file('rego.json'),
      );
      assert.equal(both.code, 2);
      assert.match(both.stderr, /--config and --ratify-config exclude each other/);
    });

    it('reads v1beta1 resources as they are: an inline certificate provider serves the notation trust store', async () => {
      const crs = await fill(
        'ratify-crs-notation.yaml',
        { __NOTATION_CERTIFICATE__: certificate },
        file('notation-crs.yaml'),
      );
      // Ratify's oras store with useHttp, as its own resource
      await writeFile(
        file('store.yaml'),
        'apiVersion: config.ratify.deislabs.io/v1beta1\nkind: Store\nmetadata:\n  name: store-oras\nspec:\n  name: oras\n  parameters:\n    useHttp: true\n',
      );
      const args = ['--ratify-config', crs, '--ratify-config', file('store.yaml')];
      const ok = await verify(ref('notation'), ...args);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.equal((await verify(ref('unsigned'), ...args)).code, 1);
      assert.equal(
        (await verify(ref('cosign'), ...args)).code,
        1,
        'a cosign signature is no notation signature',
      );
    });
  });

  describe("Ratify's own v1beta1 samples, as they are", { skip: !existsSync(RATIFY_MIRROR) }, () => {
    it('the cosign and notation Verifier samples decide with our inline providers under their names', async () => {
      await writeFile(
        file('s-cosign.yaml'),
        ratifySample('config/samples/clustered/verifier/config_v1beta1_verifier_cosign.yaml'),
      );
      await writeFile(
        file('s-notation.yaml'),
        ratifySample('config/samples/clustered/verifier/config_v1beta1_verifier_notation.yaml'),
      );
      await writeFile(
        file('s-store.yaml'),
        ratifySample('config/samples/clustered/store/config_v1beta1_store_oras_http.yaml'),
      );
      await writeFile(
        file('s-policy.yaml'),
        ratifySample('config/samples/clustered/policy/config_v1beta1_policy_json.yaml'),
      );
      await writeFile(file('s-key.yaml'), inlineProvider('ratify-cosign-inline-key-0', 'key', publicKey));
      await writeFile(
        file('s-cert.yaml'),
        inlineProvider('ratify-notation-inline-cert-0', 'certificate', certificate),
      );
      const common = ['s-store.yaml', 's-policy.yaml'].flatMap((f) => ['--ratify-config', file(f)]);
      const cosign = [
        ...common,
        '--ratify-config',
        file('s-cosign.yaml'),
        '--ratify-config',
        file('s-key.yaml'),
      ];
      assert.equal((await verify(ref('cosign'), ...cosign)).code, 0);
      assert.equal((await verify(ref('unsigned'), ...cosign)).code, 1);
      const notation = [
        ...common,
        '--ratify-config',
        file('s-notation.yaml'),
        '--ratify-config',
        file('s-cert.yaml'),
      ];
      const ok = await verify(ref('notation'), ...notation);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.equal((await verify(ref('unsigned'), ...notation)).code, 1);
      assert.equal((await verify(ref('cosign'), ...notation)).code, 1);
    });
  });

  describe('vouch import ratify -o vouch.yaml', () => {
    it('writes a vouch.yaml and the inline key beside it, which allow the signed image and deny the unsigned', async () => {
      const crs = await fill(
        'ratify-crs-cosign.yaml',
        { __COSIGN_PUBLIC_KEY__: publicKey },
        file('cosign-crs.yaml'),
      );
      const out = file('imported/vouch.yaml');
      const run = await vouch('import', 'ratify', crs, '-o', out, '--insecure-registry', registry.host);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(await readFile(file('imported/ratify-cosign-inline-key-0.pub'), 'utf8'), publicKey);
      const text = await readFile(out, 'utf8');
      assert.match(text, /# from cosign-crs\.yaml\[1\] \(Verifier verifier-cosign\)/);
      const loaded = await loadConfigFile(out);
      assert.deepEqual(loaded.config.registries.insecure, [registry.host]);
      assert.equal((await verify(ref('cosign'), '--config', out)).code, 0);
      assert.equal((await verify(ref('unsigned'), '--config', out)).code, 1);
    });

    it('fails on unsupported constructs, listing each; --allow-partial imports the rest and lists them', async () => {
      const src = join(FIXTURES, 'ratify-unsupported.json');
      const strict = await vouch('import', 'ratify', src);
      assert.equal(strict.code, 2);
      assert.match(strict.stderr, /4 construct\(s\) vouch cannot express/);
      assert.match(strict.stderr, /authProvider k8Secrets/);
      assert.equal(strict.stdout, '');
      const partial = await vouch('import', 'ratify', src, '--allow-partial');
      assert.equal(partial.code, 0, partial.stderr);
      assert.match(partial.stderr, /not carried over: .*schemavalidator/);
      assert.match(partial.stdout, /# NOT CARRIED OVER/);
    });

    it('asks for -o when inline material has nowhere to go', async () => {
      const crs = await fill(
        'ratify-crs-cosign.yaml',
        { __COSIGN_PUBLIC_KEY__: publicKey },
        file('cosign-crs2.yaml'),
      );
      const run = await vouch('import', 'ratify', crs);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /give -o FILE/);
    });
  });

  describe('vouch import policy-controller -o vouch.yaml', () => {
    it('turns a ClusterImagePolicy with an inline key into a rule that allows the signed image and denies the unsigned', async () => {
      const cip = await fill(
        'cip-key.yaml',
        { __COSIGN_PUBLIC_KEY__: publicKey, __REGISTRY__: registry.host },
        file('cip.yaml'),
      );
      const out = file('pc/vouch.yaml');
      const run = await vouch('import', 'policy-controller', cip, '-o', out);
      assert.equal(run.code, 0, run.stderr);
      const insecure = ['--insecure-registry', registry.host];
      const ok = await verify(ref('cosign'), '--config', out, ...insecure, '-o', 'json');
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.equal(JSON.parse(ok.stdout).rule, 'signed-by-release-key');
      assert.equal((await verify(ref('unsigned'), '--config', out, ...insecure)).code, 1);
      // an image no ClusterImagePolicy names is denied (no-match-policy deny)
      const other = `${registry.host}/elsewhere/app:v1`;
      await pushTestImage(client.repository(parseReference(other)), 'v1', 'import-elsewhere');
      const none = await verify(other, '--config', out, ...insecure, '-o', 'json');
      assert.equal(none.code, 1);
      assert.match(JSON.stringify(JSON.parse(none.stdout).why), /no policy rule matches/);
    });

    it('fails on a KMS key and a CUE policy, naming them', async () => {
      const run = await vouch('import', 'policy-controller', join(FIXTURES, 'cip-unsupported.yaml'));
      assert.equal(run.code, 2);
      assert.match(run.stderr, /key\.kms gcpkms:/);
      assert.match(run.stderr, /policy cue/);
    });
  });

  describe('vouch serve --ratify-config', () => {
    let child: ChildProcess | undefined;
    after(async () => {
      if (child) await stopChild(child);
    });

    it('answers /provide with the decision the Ratify config intends', async () => {
      await copyFile(join(FIXTURES, 'ratify-cosign-key.json'), file('serve.json'));
      child = spawn(
        VOUCH,
        [
          'serve',
          '--ratify-config',
          file('serve.json'),
          '--insecure-http',
          '--listen',
          '127.0.0.1:0',
          '--insecure-registry',
          registry.host,
        ],
        { cwd: ROOT, env: ENV, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let log = '';
      const url = await new Promise<string>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no server: ${log}`)), 30_000);
        child?.stderr?.on('data', (b: Buffer) => {
          log += b.toString();
          const m = /serving on (http:\/\/\S+)/.exec(log);
          if (m?.[1]) {
            clearTimeout(timer);
            res(m[1]);
          }
        });
        child?.once('exit', (code) => rej(new Error(`serve exited ${code}: ${log}`)));
      });
      const res = await fetch(`${url}/provide`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ keys: ['image'], values: [ref('cosign'), ref('unsigned')] }),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { responses: Array<{ image: string; allowed: boolean }> };
      assert.deepEqual(
        body.responses.map((r) => [r.image, r.allowed]),
        [
          [ref('cosign'), true],
          [ref('unsigned'), false],
        ],
      );
    });
  });
});
