import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision } from '../../src/engine/types.js';
import { gatekeeperValue, gatekeeperValueParts } from '../../src/server/values.js';

const decision = {
  allowed: true,
  verified: true,
  mode: 'enforce',
  wouldDeny: false,
  rule: 'all "quoted" \u2028 rule',
  why: ['notation: 1 of 1 verified', 'trace "\u0000vouch-trace-id\u0000" in a message'],
  reference: 'registry.test/app:v1',
  subject: { name: 'registry.test/app', digest: `sha256:${'a'.repeat(64)}`, mediaType: 'x', size: 1 },
  reports: [
    {
      verifier: 'notation',
      outcome: 'verified',
      reason: 'ok',
      message: 'signé by "CN=ü" \ud83d\ude00',
      artifact: { digest: `sha256:${'b'.repeat(64)}`, mediaType: 'm', size: 2, artifactType: 't' },
      details: { signer: 'CN=ü', chain: [{ sha256: 'c' }] },
      nested: [],
    },
  ],
  decidedAt: '2026-01-01T00:00:00.000Z',
} as unknown as Decision;

describe('the serialised Gatekeeper value', () => {
  it('is byte for byte JSON.stringify of the value, with any trace id between its parts', () => {
    for (const traceID of ['0f1e2d3c-aaaa-bbbb-cccc-000000000000', 'odd "id" \\ é']) {
      const [before, after] = gatekeeperValueParts(decision);
      const joined = Buffer.concat([before, Buffer.from(JSON.stringify(traceID)), after]).toString('utf8');
      assert.equal(joined, JSON.stringify(gatekeeperValue(decision, traceID)));
      assert.deepEqual(JSON.parse(joined), gatekeeperValue(decision, traceID));
    }
  });

  it('is computed once per decision object', () => {
    assert.equal(gatekeeperValueParts(decision), gatekeeperValueParts(decision));
    assert.notEqual(gatekeeperValueParts({ ...decision }), gatekeeperValueParts(decision));
  });
});
