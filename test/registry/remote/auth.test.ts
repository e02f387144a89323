/** Basic (htpasswd) and bearer-token auth against the real registry. */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVouchError } from '../../../src/errors.js';
import { parseReference } from '../../../src/reference/parse.js';
import { DockerConfigCredentialStore, StaticCredentialStore } from '../../../src/registry/auth/index.js';
import {
  type RegistryRequestEvent,
  RemoteRegistry,
  referrersTag,
} from '../../../src/registry/remote/index.js';
import { MediaType } from '../../../src/registry/types.js';
import { buildTestImage, pushImage, pushTestImage } from '../../helpers/images.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { startTokenIssuer, type TokenIssuer } from '../../helpers/token-issuer.js';

const USER = 'vouch';
const PASSWORD = 'correct horse battery staple';

describe('basic auth (htpasswd)', () => {
  let registry: TestRegistry;
  let dir: string;
  const clients: RemoteRegistry[] = [];
  const make = (options: ConstructorParameters<typeof RemoteRegistry>[0]) => {
    const c = new RemoteRegistry({ insecureHosts: [registry.host], ...options });
    clients.push(c);
    return c;
  };

  before(async () => {
    registry = await startRegistry({ auth: { htpasswd: { user: USER, password: PASSWORD } } });
    dir = await mkdtemp(join(tmpdir(), 'vouch-auth-test-'));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pushes and pulls with static credentials', async () => {
    const client = make({
      credentials: new StaticCredentialStore({ [registry.host]: { username: USER, password: PASSWORD } }),
    });
    const repo = client.repository(parseReference(`${registry.host}/basic/app`));
    const d = await pushTestImage(repo, 'v1', 'basic');
    assert.equal((await repo.resolve('v1')).digest, d.digest);
  });

  it('reads credentials from docker config.json (auths) and from a credential helper', async () => {
    const configPath = join(dir, 'config.json');
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    await writeFile(configPath, JSON.stringify({ auths: { [`http://${registry.host}/v2/`]: { auth } } }));
    const viaAuths = make({ credentials: new DockerConfigCredentialStore({ path: configPath }) });
    assert.equal(
      (await viaAuths.repository(parseReference(`${registry.host}/basic/app`)).resolve('v1')).mediaType,
      MediaType.OciManifest,
    );

    const helper = join(dir, 'docker-credential-vouchtest');
    await writeFile(
      helper,
      `#!/bin/sh\nread host\n[ "$1" = get ] && [ "$host" = "${registry.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\n` +
        `printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$host"\n`,
    );
    await chmod(helper, 0o755);
    const helperConfig = join(dir, 'helper.json');
    await writeFile(helperConfig, JSON.stringify({ credHelpers: { [registry.host]: 'vouchtest' } }));
    const path = process.env.PATH;
    process.env.PATH = `${dir}:${path}`;
    try {
      const store = new DockerConfigCredentialStore({ path: helperConfig });
      assert.deepEqual(await store.get(registry.host), { username: USER, password: PASSWORD });
      const viaHelper = make({ credentials: store });
      assert.ok(
        (await viaHelper.repository(parseReference(`${registry.host}/basic/app`)).resolve('v1')).digest,
      );
      const storeFor = new DockerConfigCredentialStore({ path: join(dir, 'store.json') });
      await writeFile(join(dir, 'store.json'), JSON.stringify({ credsStore: 'vouchtest' }));
      assert.equal(await storeFor.get('other.example'), undefined);
    } finally {
      process.env.PATH = path;
    }
  });

  it('fails with REGISTRY_AUTH_FAILED for wrong or missing credentials, without echoing them', async () => {
    const wrong = make({
      credentials: new StaticCredentialStore({
        [registry.host]: { username: USER, password: 'nope-secret' },
      }),
    });
    await assert.rejects(
      wrong.repository(parseReference(`${registry.host}/basic/app`)).resolve('v1'),
      (err: unknown) => {
        assert.ok(isVouchError(err, 'REGISTRY_AUTH_FAILED'), String(err));
        assert.doesNotMatch(`${err.message} ${JSON.stringify(err.details)}`, /nope-secret/);
        return true;
      },
    );
    const none = make({});
    await assert.rejects(
      none.repository(parseReference(`${registry.host}/basic/app`)).resolve('v1'),
      (err: unknown) => {
        assert.ok(isVouchError(err, 'REGISTRY_AUTH_FAILED'), String(err));
        assert.match(err.message, /no credentials are configured/);
        return true;
      },
    );
  });
});

describe('bearer token auth (registry auth: token, test token issuer)', () => {
  let issuer: TokenIssuer;
  let registry: TestRegistry;
  const clients: RemoteRegistry[] = [];

  before(async () => {
    issuer = await startTokenIssuer({
      users: { [USER]: PASSWORD },
      refreshTokens: { 'refresh-token-1': USER },
    });
    registry = await startRegistry({ auth: { token: issuer } });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await registry.stop();
    await issuer.stop();
  });

  function client(password = PASSWORD, events?: RegistryRequestEvent[]) {
    const c = new RemoteRegistry({
      insecureHosts: [registry.host],
      credentials: new StaticCredentialStore({ [registry.host]: { username: USER, password } }),
      ...(events ? { onRequest: (e: RegistryRequestEvent) => events.push(e) } : {}),
    });
    clients.push(c);
    return c;
  }

  it('pushes, then resolves and lists referrers with one cached pull token', async () => {
    const pusher = client().repository(parseReference(`${registry.host}/token/app`));
    const subject = await pushTestImage(pusher, 'v1', 'token-subject');
    const sig = buildTestImage('token-sig', { subject, artifactType: 'application/vnd.example.sig' });
    await pushImage(pusher, sig);
    const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [sig.manifest] };
    await pusher.pushManifest(new TextEncoder().encode(JSON.stringify(index)), MediaType.OciIndex, {
      tag: referrersTag(subject.digest),
    });
    assert.ok(issuer.requests.some((r) => r.scopes.includes('repository:token/app:pull,push')));

    const events: RegistryRequestEvent[] = [];
    const reader = client(PASSWORD, events);
    const repo = reader.repository(parseReference(`${registry.host}/token/app`));
    const tokensBefore = issuer.requests.length;
    const resolved = await Promise.all(Array.from({ length: 8 }, () => repo.resolve('v1')));
    assert.ok(resolved.every((d) => d.digest === subject.digest));
    assert.equal(issuer.requests.length - tokensBefore, 1, 'one token fetch shared by concurrent requests');
    const refs = await repo.referrers(subject);
    assert.deepEqual(
      refs.descriptors.map((r) => r.digest),
      [sig.manifest.digest],
    );
    events.length = 0;
    await repo.resolve('v1');
    await repo.referrers(subject);
    assert.equal(issuer.requests.length - tokensBefore, 1, 'the token is cached per scope');
    // known tag-schema host, known bearer scheme: resolve + referrers = 2 registry requests, no 401s
    assert.deepEqual(
      events.map((e) => `${e.kind} ${e.method} ${e.status}`),
      ['registry HEAD 200', 'registry GET 200'],
    );
  });

  it('fails with REGISTRY_AUTH_FAILED when the token service rejects the credentials', async () => {
    const repo = client('wrong-password').repository(parseReference(`${registry.host}/token/app`));
    await assert.rejects(repo.resolve('v1'), (err: unknown) => {
      assert.ok(isVouchError(err, 'REGISTRY_AUTH_FAILED'), String(err));
      assert.match(err.message, /token service .* rejected the credentials/);
      assert.doesNotMatch(err.message, /wrong-password/);
      return true;
    });
  });

  it('exchanges an identity token (OAuth2 refresh_token grant) for a bearer token', async () => {
    const c = new RemoteRegistry({
      insecureHosts: [registry.host],
      credentials: new StaticCredentialStore({ [registry.host]: { identityToken: 'refresh-token-1' } }),
    });
    clients.push(c);
    const before = issuer.requests.length;
    const d = await c.repository(parseReference(`${registry.host}/token/app`)).resolve('v1');
    assert.match(d.digest, /^sha256:/);
    const used = issuer.requests.slice(before);
    assert.deepEqual(
      used.map((r) => [r.method, r.user, r.status]),
      [['POST', USER, 200]],
    );
  });
});
