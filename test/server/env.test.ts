import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from '../../src/config/duration.js';
import { admissionBudgetMs } from '../../src/server/budget.js';
import { parseListen, parseServerConfig } from '../../src/server/config.js';
import { camelSegment, configFromEnv } from '../../src/server/env.js';
import { splitKey } from '../../src/server/gatekeeper.js';
import { podImages } from '../../src/server/pod-images.js';

describe('server configuration from the environment', () => {
  it('maps the ATCR provider variables as its document says', () => {
    const fragment = configFromEnv({
      TRUST_POLICY_PATH: '/config/trust-policy.yaml',
      HTTP_PORT: '8080',
      LOG_LEVEL: 'DEBUG',
      CACHE_ENABLED: 'false',
      CACHE_TTL: '300',
      DID_RESOLVER_TIMEOUT: '10s',
      PDS_TIMEOUT: '1500ms',
    });
    assert.deepEqual(fragment, {
      verifiers: {
        atproto: {
          trustPolicyFile: '/config/trust-policy.yaml',
          didResolverTimeoutMs: 10_000,
          pdsTimeoutMs: 1500,
        },
      },
      server: { listen: '0.0.0.0:8080', logLevel: 'debug', cache: { enabled: false } },
      cache: { ttlSeconds: 300 },
    });
  });

  it('maps VOUCH_ variables with __ onto config paths, JSON values parsed, and lets them win', () => {
    const fragment = configFromEnv({
      HTTP_PORT: '8080',
      VOUCH_SERVER__LISTEN: '127.0.0.1:9443',
      VOUCH_SERVER__BUDGETS__VALIDATE_MS: '2500',
      VOUCH_CACHE__TYPE: 'redis',
      VOUCH_REGISTRIES__INSECURE: '["localhost:5000"]',
      VOUCH_DEBUG: '1',
    });
    assert.deepEqual(fragment, {
      server: { listen: '127.0.0.1:9443', budgets: { validateMs: 2500 } },
      cache: { type: 'redis' },
      registries: { insecure: ['localhost:5000'] },
    });
  });

  it('drops atproto timeouts when atproto is not configured, keeps them when it is', () => {
    assert.deepEqual(configFromEnv({ PDS_TIMEOUT: '5s' }), { verifiers: {} });
    assert.deepEqual(configFromEnv({ PDS_TIMEOUT: '5s' }, { atprotoConfigured: true }), {
      verifiers: { atproto: { pdsTimeoutMs: 5000 } },
    });
  });

  it('refuses values that do not parse, naming the variable', () => {
    assert.throws(() => configFromEnv({ CACHE_ENABLED: 'maybe' }), /CACHE_ENABLED/);
    assert.throws(() => configFromEnv({ HTTP_PORT: 'eighty' }), /HTTP_PORT/);
    assert.throws(() => configFromEnv({ VOUCH_SERVER____PROTO__: '{}' }), /not a config path/);
    assert.equal(parseDuration('2m', 'X'), 120_000);
    assert.equal(camelSegment('PER_CLIENT_CONCURRENCY'), 'perClientConcurrency');
  });
});

describe('server config and request helpers', () => {
  it('fills defaults: 2.8 s validate, 0.9 s mutate, HTTPS', () => {
    const c = parseServerConfig({});
    assert.equal(c.budgets.validateMs, 2800);
    assert.equal(c.budgets.mutateMs, 900);
    assert.equal(c.tls.insecureHttp, false);
    assert.throws(() => parseServerConfig({ budgets: { validateMs: -1 } }), /server\.budgets\.validateMs/);
  });

  it('parses HOST:PORT including IPv6', () => {
    assert.deepEqual(parseListen('127.0.0.1:8443'), { host: '127.0.0.1', port: 8443 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    assert.throws(() => parseListen('8443'), RangeError);
  });

  it('shortens the admission budget to the API server timeout minus a margin', () => {
    assert.equal(admissionBudgetMs(2800, '10s'), 2800);
    assert.equal(admissionBudgetMs(2800, '2s'), 1800);
    assert.equal(admissionBudgetMs(2800, 'soon'), 2800);
  });

  it("splits Ratify's [namespace] key prefix", () => {
    assert.deepEqual(splitKey('[team-a]nginx:1.25'), { namespace: 'team-a', image: 'nginx:1.25' });
    assert.deepEqual(splitKey('nginx:1.25'), { image: 'nginx:1.25' });
  });

  it('finds images per kind, including PodTemplate and a ReplicationController without template', () => {
    const tpl = podImages('PodTemplate', {
      template: { spec: { containers: [{ name: 'a', image: 'x:1' }] } },
    });
    assert.deepEqual(
      tpl.map((i) => i.pointer),
      ['/template/spec/containers/0/image'],
    );
    assert.deepEqual(podImages('ReplicationController', { spec: {} }), []);
    assert.deepEqual(podImages('ConfigMap', { data: {} }), []);
  });
});
