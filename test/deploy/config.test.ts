/**
 * The vouch.yaml and trust material shipped in deploy/ are accepted by vouch's own schemas
 * (src/config/schema.ts, the server section, the ATCR trust policy), so a fresh install does not
 * stop at start-up on a config error; and the budgets written there are the server's defaults.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { configSchema } from '../../src/config/schema.js';
import { parseListen, parseServerConfig, serverConfigSchema } from '../../src/server/config.js';
import { atcrTrustPolicySchema } from '../../src/trust/atproto/config.js';
import { field, KUSTOMIZE, renderChart } from './manifests.js';

const read = (path: string) => readFileSync(join(KUSTOMIZE, path), 'utf8');

function helmVouchYaml(overrides: Record<string, unknown>): string {
  const cm = renderChart('gatekeeper-system', overrides).find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name === 'vouch-config',
  );
  return field(cm, 'data', 'vouch.yaml') as string;
}

describe("deploy config against vouch's schemas", () => {
  const files: Array<[string, string]> = [
    ['base/vouch.yaml', read('base/vouch.yaml')],
    ['overlays/ha/vouch.yaml', read('overlays/ha/vouch.yaml')],
    ['chart (memory cache)', helmVouchYaml({})],
    ['chart (redis)', helmVouchYaml({ redis: { enabled: true } })],
  ];

  for (const [name, text] of files) {
    it(`${name} validates against the vouch.yaml schema and the server section`, () => {
      const parsed = configSchema.safeParse(parse(text));
      assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues));
      const server = parseServerConfig(parsed.data.server, name);
      assert.ok(server.budgets.validateMs < 3000, 'validate budget inside the 3 s Provider timeout');
      for (const rule of parsed.data.policy.rules)
        assert.ok(rule.require.length > 0, `${rule.name} requires something`);
      assert.equal(parsed.data.policy.default, 'deny');
      // the probe listener the Deployment's probes, the HEALTHCHECK and Prometheus use
      assert.equal(server.probeListen, '0.0.0.0:8081');
      assert.deepEqual(parseListen(server.probeListen), { host: '0.0.0.0', port: 8081 });
    });
  }

  it("the budgets written in deploy/ are the server's defaults (one story in the docs)", () => {
    const defaults = serverConfigSchema.parse({}).budgets;
    const base = field(parse(read('base/vouch.yaml')), 'server', 'budgets');
    assert.deepEqual(base, defaults);
  });

  it('the ha vouch.yaml differs from the base only in its cache section', () => {
    const base = parse(read('base/vouch.yaml')) as Record<string, unknown>;
    const ha = parse(read('overlays/ha/vouch.yaml')) as Record<string, unknown>;
    assert.equal(field(ha, 'cache', 'type'), 'redis');
    delete base.cache;
    delete ha.cache;
    assert.deepEqual(ha, base);
  });

  it('the example ATCR trust policy is in the ATCR format vouch reads', () => {
    const parsed = atcrTrustPolicySchema.safeParse(parse(read('base/trust/atproto-trust-policy.yaml')));
    assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues));
    assert.deepEqual(Object.keys(parsed.data.trustedDIDs).sort(), ['did:plc:alice123', 'did:plc:bob456']);
    assert.equal(parsed.data.policies[0]?.scope, 'atcr.io/*/prod-*');
  });

  it('the notation trust policy names the trust store the config provides', () => {
    const policy = JSON.parse(read('base/trust/notation-trustpolicy.json')) as {
      version: string;
      trustPolicies: Array<{ trustStores: string[] }>;
    };
    assert.equal(policy.version, '1.0');
    const config = configSchema.parse(parse(read('base/vouch.yaml')));
    const stores = Object.keys(config.verifiers.notation?.trustStores?.ca ?? {}).map((s) => `ca:${s}`);
    for (const p of policy.trustPolicies)
      for (const s of p.trustStores) assert.ok(stores.includes(s), `${s} is configured`);
  });
});
