import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isVouchError } from '../../../src/errors.js';
import { loadAtprotoTrust } from '../../../src/trust/atproto/load.js';
import { decideSigner } from '../../../src/trust/atproto/policy.js';
import { atprotoScopeRequirement } from '../../../src/verifiers/atproto/index.js';

const ALICE = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
const BOB = 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb';
const YAML = `version: 1.0
trustedDIDs:
  ${ALICE}:
    name: "Alice (DevOps)"
    validFrom: "2024-01-01T00:00:00Z"
    expiresAt: null
  ${BOB}:
    name: "Bob (Security)"
    validFrom: "2024-06-01T00:00:00Z"
    expiresAt: "2025-12-31T23:59:59Z"
policies:
  - name: production
    scope: "atcr.io/*/prod-*"
    require:
      signature: true
    trustedDIDs:
      - ${ALICE}
      - ${BOB}
    action: enforce
  - name: staging
    scope: "atcr.io/**"
    require:
      signature: false
    trustedDIDs: [${ALICE}]
    action: audit
`;

async function rejects(config: Record<string, unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(
    loadAtprotoTrust(config, { baseDir: '.' }),
    (err) => isVouchError(err, 'CONFIG_INVALID') && pattern.test(err.message),
  );
}

describe('ATCR trust policy', () => {
  it('loads the documented example from a file and applies scopes and validity windows', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vouch-atp-'));
    await writeFile(path.join(dir, 'trust-policy.yaml'), YAML);
    const trust = await loadAtprotoTrust({ trustPolicyFile: 'trust-policy.yaml' }, { baseDir: dir });
    assert.equal(trust.network.plcUrl, 'https://plc.directory');
    assert.equal(trust.network.cacheTtlMs, 300_000);
    assert.match(trust.generation, /^[0-9a-f]{64}$/);
    assert.deepEqual(atprotoScopeRequirement(trust, 'atcr.io/alice/prod-api'), {
      requireSignature: true,
      action: 'enforce',
      policyName: 'production',
    });
    assert.deepEqual(atprotoScopeRequirement(trust, 'atcr.io/alice/dev/x'), {
      requireSignature: false,
      action: 'audit',
      policyName: 'staging',
    });
    assert.equal(atprotoScopeRequirement(trust, 'ghcr.io/x/y'), undefined);
    const at = (iso: string) => new Date(iso);
    assert.equal(
      decideSigner(trust.policy, 'atcr.io/alice/prod-api', BOB, at('2025-06-01T00:00:00Z')).trusted,
      true,
    );
    assert.equal(
      decideSigner(trust.policy, 'atcr.io/alice/prod-api', BOB, at('2026-06-01T00:00:00Z')).trusted,
      false,
    );
    assert.equal(
      decideSigner(trust.policy, 'atcr.io/alice/prod-api', BOB, at('2024-02-01T00:00:00Z')).trusted,
      false,
    );
    assert.equal(
      decideSigner(trust.policy, 'atcr.io/alice/dev-api', BOB, at('2025-06-01T00:00:00Z')).trusted,
      false,
    );
    const other = await loadAtprotoTrust(
      { trustPolicyFile: 'trust-policy.yaml', plcUrl: 'http://127.0.0.1:1' },
      { baseDir: dir },
    );
    assert.notEqual(other.generation, trust.generation);
  });
  it('names the field that is wrong', async () => {
    await rejects({}, /exactly one of trustPolicy and trustPolicyFile/);
    await rejects({ trustPolicy: { version: 2 } }, /trustPolicy\.version/);
    await rejects({ trustPolicy: { version: 1, trustedDIDs: { 'not-a-did': {} } } }, /not a valid DID/);
    await rejects(
      { trustPolicy: { version: 1, policies: [{ name: 'p', scope: '*', trustedDIDs: [ALICE] }] } },
      /not listed in trustedDIDs/,
    );
    await rejects(
      { trustPolicy: { version: 1, policies: [{ name: 'p', scope: '*', trustedDIDs: [] }] } },
      /trustedDIDs is empty/,
    );
    await rejects(
      { trustPolicy: { version: 1, policies: [{ name: 'p', scope: '*', action: 'warn' }] } },
      /policies\.0\.action/,
    );
    await rejects(
      { trustPolicy: { version: 1, trustedDIDs: { [ALICE]: { validFrom: 'soon' } } } },
      /validFrom/,
    );
    await rejects({ trustPolicy: { version: 1 }, plcUrl: 'ftp://x' }, /plcUrl/);
    await rejects({ trustPolicyFile: '/nonexistent/policy.yaml' }, /cannot read/);
  });
});
