import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVouchError } from '../../../src/errors.js';
import {
  ChainCredentialStore,
  DockerConfigCredentialStore,
  dockerConfigPath,
  normalizeHost,
  StaticCredentialStore,
} from '../../../src/registry/auth/index.js';

describe('credential stores', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vouch-creds-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('normalizes docker config keys', () => {
    assert.equal(normalizeHost('https://index.docker.io/v1/'), 'docker.io');
    assert.equal(normalizeHost('registry-1.docker.io'), 'docker.io');
    assert.equal(normalizeHost('https://Ghcr.IO/v2/'), 'ghcr.io');
    assert.equal(normalizeHost('localhost:5000'), 'localhost:5000');
  });

  it('reads auths entries: base64 auth, username/password, identity token', async () => {
    const path = join(dir, 'config.json');
    await writeFile(
      path,
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw:with:colons').toString('base64') },
          'ghcr.io': { username: 'gh', password: 'tok' },
          'quay.io': { identitytoken: 'refresh-me' },
          'empty.example': {},
        },
      }),
    );
    const store = new DockerConfigCredentialStore({ path });
    assert.deepEqual(await store.get('docker.io'), { username: 'hub', password: 'pw:with:colons' });
    assert.deepEqual(await store.get('ghcr.io'), { username: 'gh', password: 'tok' });
    assert.deepEqual(await store.get('quay.io'), { identityToken: 'refresh-me' });
    assert.equal(await store.get('empty.example'), undefined);
    assert.equal(await store.get('nowhere.example'), undefined);
  });

  it('treats a missing file as no credentials and a malformed one as CONFIG_INVALID without quoting it', async () => {
    assert.equal(
      await new DockerConfigCredentialStore({ path: join(dir, 'absent.json') }).get('x.io'),
      undefined,
    );
    const path = join(dir, 'broken.json');
    await writeFile(path, '{"auths": {"x.io": {"auth": "c2VjcmV0LXZhbHVl"}');
    await assert.rejects(new DockerConfigCredentialStore({ path }).get('x.io'), (err: unknown) => {
      assert.ok(isVouchError(err, 'CONFIG_INVALID'));
      assert.doesNotMatch(err.message, /c2VjcmV0/);
      return true;
    });
  });

  it('finds config.json through DOCKER_CONFIG, then HOME', () => {
    assert.equal(dockerConfigPath({ DOCKER_CONFIG: '/etc/dc' }), '/etc/dc/config.json');
    assert.equal(dockerConfigPath({ HOME: '/home/u' }), '/home/u/.docker/config.json');
  });

  it('chains stores in order', async () => {
    const chain = new ChainCredentialStore([
      new StaticCredentialStore({ 'a.io': { username: 'first', password: '1' } }),
      new StaticCredentialStore({
        'a.io': { username: 'second', password: '2' },
        'b.io': { username: 'b', password: '3' },
      }),
    ]);
    assert.deepEqual(await chain.get('a.io'), { username: 'first', password: '1' });
    assert.deepEqual(await chain.get('b.io'), { username: 'b', password: '3' });
    assert.equal(await chain.get('c.io'), undefined);
  });

  it('reports a credential helper that cannot run', async () => {
    const path = join(dir, 'helper.json');
    await writeFile(path, JSON.stringify({ credHelpers: { 'h.io': 'vouch-no-such-helper' } }));
    await assert.rejects(
      new DockerConfigCredentialStore({ path }).get('h.io'),
      /docker-credential-vouch-no-such-helper cannot run/,
    );
  });

  it('stops a credential helper that does not answer in time', async () => {
    const helper = join(dir, 'docker-credential-vouchslow');
    await writeFile(helper, '#!/bin/sh\nexec sleep 10\n');
    await chmod(helper, 0o755);
    const path = join(dir, 'slow.json');
    await writeFile(path, JSON.stringify({ credsStore: 'vouchslow' }));
    const saved = process.env.PATH;
    process.env.PATH = `${dir}:${saved}`;
    const started = Date.now();
    try {
      await assert.rejects(
        new DockerConfigCredentialStore({ path, helperTimeoutMs: 200 }).get('slow.io'),
        (err: unknown) =>
          isVouchError(err, 'REGISTRY_AUTH_FAILED') && /did not answer within 200 ms/.test(err.message),
      );
    } finally {
      process.env.PATH = saved;
    }
    assert.ok(Date.now() - started < 2000);
  });
});
