/**
 * Opt-in TUF refresh of the cosign trusted root against a real TUF repository served on loopback
 * (test/helpers/tuf-mirror.ts, signed metadata) with trusted roots from `@sigstore/mock`
 * services: the refreshed copy is what loading uses, offline once cached; a mirror that is down,
 * tampered, frozen (expired timestamp) or serving an invalid trusted root leaves the cached copy.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { isVouchError } from '../../../src/errors.js';
import { loadCosignTrust } from '../../../src/trust/cosign/load.js';
import { cachedTrustedRootPath, refreshTrustedRoot } from '../../../src/trust/cosign/tuf.js';
import { startSigstoreMock } from '../../helpers/sigstore-mock.js';
import { startTufMirror, type TufMirror } from '../../helpers/tuf-mirror.js';

const IDENTITY = {
  subject: 'https://github.com/acme/app/.github/workflows/r.yml@refs/heads/main',
  issuer: 'https://token.actions.githubusercontent.com',
};

async function mockTrustedRoot(): Promise<string> {
  const mock = await startSigstoreMock();
  const json = mock.trustedRootJson();
  await mock.stop();
  return json;
}

describe('cosign trusted root refresh over TUF', { timeout: 60_000 }, () => {
  let mirror: TufMirror;
  let dir: string;
  let cacheDir: string;
  let initialRoot: string;
  let rootA: string;
  let rootB: string;

  before(async () => {
    [rootA, rootB] = await Promise.all([mockTrustedRoot(), mockTrustedRoot()]);
    mirror = await startTufMirror(rootA);
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-tuf-'));
    cacheDir = path.join(dir, 'cache');
    initialRoot = path.join(dir, 'root.json');
    await writeFile(initialRoot, mirror.rootJson);
  });
  after(async () => {
    await mirror?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const refresh = () => refreshTrustedRoot({ mirror: mirror.url, cacheDir, initialRoot });
  const cached = () => readFile(cachedTrustedRootPath(cacheDir), 'utf8');
  const load = () =>
    loadCosignTrust({ tuf: { mirror: mirror.url, cacheDir }, identities: [IDENTITY] }, { baseDir: dir });

  it('fails loading with tuf configured before any refresh, naming tuf.cacheDir (no network at start)', async () => {
    const before = mirror.requests.length;
    await assert.rejects(
      load(),
      (err) => isVouchError(err, 'CONFIG_INVALID') && /tuf\.cacheDir/.test(err.message),
    );
    assert.equal(mirror.requests.length, before, 'loading never contacts the mirror');
  });

  it('refreshes the trusted root into cacheDir, verified through the TUF metadata chain', async () => {
    const result = await refresh();
    assert.equal(result.updated, true);
    assert.equal(await cached(), rootA);
    assert.ok(mirror.requests.includes('/timestamp.json'));
    assert.ok(mirror.requests.includes('/targets/trusted_root.json'));
    const trust = await load();
    const caRoot = JSON.parse(rootA).certificateAuthorities[0].certChain.certificates[0].rawBytes;
    assert.equal(
      Buffer.from(trust.material.certificateAuthorities[0]?.certChain[0]?.root.toDER() ?? []).toString(
        'base64',
      ),
      caRoot,
    );
  });

  it('reports no update when the mirror has not changed', async () => {
    assert.equal((await refresh()).updated, false);
  });

  it('takes a new trusted root the mirror publishes', async () => {
    mirror.publish(rootB);
    assert.equal((await refresh()).updated, true);
    assert.equal(await cached(), rootB);
  });

  it('keeps the cached copy when the mirror serves a target other than its metadata records', async () => {
    mirror.tamperTarget(rootA, rootA.replace('sigstore.mock', 'sigstore.evil'));
    await assert.rejects(
      refresh(),
      (err) => isVouchError(err, 'TRUST_MATERIAL_INVALID') && /Expected hash/.test(err.message),
    );
    assert.equal(await cached(), rootB);
  });

  it('keeps the cached copy when the timestamp metadata has expired (frozen mirror)', async () => {
    mirror.expireTimestamp();
    await assert.rejects(
      refresh(),
      (err) => isVouchError(err, 'TRUST_MATERIAL_INVALID') && /expired/.test(err.message),
    );
    assert.equal(await cached(), rootB);
  });

  it('keeps the cached copy when the published trusted root fails validation', async () => {
    const invalid = JSON.parse(rootA);
    delete invalid.tlogs[0].publicKey.validFor.start;
    mirror.publish(JSON.stringify(invalid));
    await assert.rejects(
      refresh(),
      (err) => isVouchError(err, 'TRUST_MATERIAL_INVALID') && /validFor/.test(err.message),
    );
    assert.equal(await cached(), rootB);
  });

  it('needs the initial root.json for a mirror it has no seed for', async () => {
    await assert.rejects(
      refreshTrustedRoot({ mirror: mirror.url, cacheDir: path.join(dir, 'other-cache') }),
      (err) => isVouchError(err, 'TRUST_MATERIAL_INVALID') && /root\.json/.test(err.message),
    );
  });

  it('vouch trust-refresh --config refreshes the cache verifiers.cosign.tuf names', async () => {
    mirror.publish(rootA);
    const config = path.join(dir, 'vouch.yaml');
    await writeFile(
      config,
      `verifiers:\n  cosign:\n    tuf:\n      mirror: ${mirror.url}\n      cacheDir: cache\n      initialRoot: root.json\n`,
    );
    const root = path.resolve(import.meta.dirname, '../../..');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'trust-refresh', '--config', config],
      { cwd: root, timeout: 60_000 },
    );
    assert.equal(stdout, `updated ${cachedTrustedRootPath(cacheDir)}\n`);
    assert.equal(await cached(), rootA);
  });

  it('loads the cached copy offline when the mirror is gone, and a refresh then fails', async () => {
    await mirror.stop();
    const trust = await load();
    assert.equal(trust.material.certificateAuthorities.length, 1);
    await assert.rejects(
      refresh(),
      (err) => isVouchError(err, 'TRUST_MATERIAL_INVALID') && /ECONNREFUSED/.test(err.message),
    );
    assert.equal(await cached(), rootA);
  });
});
