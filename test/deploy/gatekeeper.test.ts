/**
 * The Gatekeeper policies' contract with vouch's validate value, checked statically (fast, no
 * ../shared needed). The Rego itself is evaluated elsewhere: test/gatekeeper-rego/ runs every
 * shipped template (and Ratify's) under the real Rego engine (OPA and Gatekeeper's external_data
 * client, built from ../shared/tools/rego) against a live vouch serve; docs/gatekeeper.md "Tested
 * with the real Rego engine". What this file checks:
 * - the value the server really builds (`gatekeeperValue` from src/server/values.ts, fed a Decision)
 *   carries every field the Rego reads, with the type the Rego expects;
 * - each template's Rego has the fail-closed rules: system_error, per-key errors, keys without an
 *   item, and a value without the positive verdict (never Ratify's fail-open `== false`);
 * - templates, constraints, Providers and Assigns refer to each other consistently.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision } from '../../src/engine/types.js';
import { gatekeeperValue } from '../../src/server/values.js';
import { field, find, type K8sObject, KUSTOMIZE, kustomize } from './manifests.js';

const objects: K8sObject[] = kustomize(`${KUSTOMIZE}/gatekeeper`);
const templates = objects.filter((o) => o.kind === 'ConstraintTemplate');
const rego = (t: K8sObject) => field(t, 'spec', 'targets', 0, 'rego') as string;

/** Fields of the validate value the Rego reads, and the JSON type each must have. */
const VALUE_FIELDS: Record<string, 'boolean' | 'array' | 'string'> = {
  allowed: 'boolean',
  isSuccess: 'boolean',
  why: 'array',
  verifierReports: 'array',
};

function decision(allowed: boolean): Decision {
  const digest = `sha256:${'a'.repeat(64)}`;
  return {
    allowed,
    verified: allowed,
    mode: 'enforce',
    wouldDeny: !allowed,
    reference: 'atcr.io/alice/prod-app:1.0',
    subject: {
      name: 'atcr.io/alice/prod-app',
      digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: 100,
    },
    rule: 'atcr-production',
    why: allowed ? ['atproto signature by did:plc:alice123 verified'] : ['no signature found'],
    reports: [
      {
        verifier: 'atproto',
        artifact: {
          digest: `sha256:${'b'.repeat(64)}`,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
        },
        outcome: allowed ? 'verified' : 'failed',
        reason: allowed ? 'verified' : 'untrusted-signer',
        message: 'm',
        details: { did: 'did:plc:alice123', handle: 'alice.example' },
        nested: [],
      },
    ],
    decidedAt: new Date(0).toISOString(),
  };
}

describe("Gatekeeper policies and vouch's validate value", () => {
  it("the server's validate value carries every field the Rego reads, with the right types", () => {
    for (const allowed of [true, false]) {
      const value = JSON.parse(JSON.stringify(gatekeeperValue(decision(allowed), 'trace'))) as Record<
        string,
        unknown
      >;
      for (const [name, type] of Object.entries(VALUE_FIELDS)) {
        const v = value[name];
        assert.equal(
          type === 'array' ? Array.isArray(v) : typeof v,
          type === 'array' ? true : type,
          `value.${name}`,
        );
      }
      assert.equal(value.allowed, allowed);
      assert.equal(value.isSuccess, allowed);
      // vouchtrusteddid reads verifierReports[].verifierName / outcome / extensions.did
      const report = field(value, 'verifierReports', 0);
      assert.equal(field(report, 'verifierName'), 'atproto');
      assert.equal(field(report, 'outcome'), allowed ? 'verified' : 'failed');
      assert.equal(field(report, 'extensions', 'did'), 'did:plc:alice123');
      for (const w of value.why as unknown[])
        assert.equal(typeof w, 'string', 'why[] holds strings (concat)');
    }
  });

  it('the fields the Rego reads from a value are exactly the ones checked above', () => {
    const read = new Set<string>();
    for (const t of templates) {
      for (const m of rego(t).matchAll(/\b(?:item\[1\]|value)\.([A-Za-z]+)/g)) read.add(m[1] ?? '');
      for (const m of rego(t).matchAll(/object\.get\(value, "([A-Za-z]+)"/g)) read.add(m[1] ?? '');
    }
    read.delete('reports'); // the alternative list shape, read only if present
    assert.deepEqual([...read].sort(), Object.keys(VALUE_FIELDS).sort());
  });

  it('four templates: signature required, trusted DID, production namespaces, Ratify-compatible', () => {
    assert.deepEqual(templates.map((t) => t.metadata.name).sort(), [
      'vouchproductionnamespaces',
      'vouchratifyverification',
      'vouchsignaturerequired',
      'vouchtrusteddid',
    ]);
    for (const t of templates) {
      const kind = field(t, 'spec', 'crd', 'spec', 'names', 'kind') as string;
      assert.equal(kind.toLowerCase(), t.metadata.name, 'Gatekeeper requires name == lower(kind)');
      assert.match(rego(t), new RegExp(`^package ${t.metadata.name}$`, 'm'));
    }
  });

  it('every template fails closed: system_error, per-key errors, unanswered keys, no positive verdict', () => {
    for (const t of templates) {
      const text = rego(t);
      const name = t.metadata.name;
      const calls = [...text.matchAll(/external_data\(\{"provider": "([a-z-]+)", "keys": images\}\)/g)];
      assert.equal(calls.length, 1, `${name}: one external_data call with all images`);
      find(objects, 'Provider', calls[0]?.[1] ?? '');
      assert.match(text, /\.system_error != ""/, `${name}: system_error is a violation`);
      assert.match(
        text,
        /some item in \w+\.errors\n\s+msg :=/,
        `${name}: every per-key error is a violation`,
      );
      assert.match(text, /not answered\(image\)/, `${name}: a key with no item is a violation`);
      assert.match(
        text,
        /not item\[1\]\.(allowed|isSuccess) == true/,
        `${name}: missing/false verdict is a violation`,
      );
      assert.doesNotMatch(text, /== false/, `${name}: never the fail-open "== false" test`);
      for (const list of ['initContainers', 'ephemeralContainers', 'containers'])
        assert.ok(text.includes(`"${list}"`));
      assert.match(text, /spec\.jobTemplate\.spec\.template\.spec/, `${name}: CronJob pod spec`);
      let depth = 0;
      for (const ch of text.replace(/"(?:[^"\\]|\\.)*"/g, '')) {
        depth += ch === '{' || ch === '[' || ch === '(' ? 1 : ch === '}' || ch === ']' || ch === ')' ? -1 : 0;
        assert.ok(depth >= 0, `${name}: brackets balance`);
      }
      assert.equal(depth, 0, `${name}: brackets balance`);
    }
    assert.match(
      rego(find(objects, 'ConstraintTemplate', 'vouchratifyverification')),
      /not item\[1\]\.isSuccess == true/,
    );
    assert.match(rego(find(objects, 'ConstraintTemplate', 'vouchtrusteddid')), /did in trusted_dids/);
  });

  it('constraints use template kinds and only the parameters their schema declares', () => {
    const constraints = objects.filter((o) => o.apiVersion.startsWith('constraints.gatekeeper.sh/'));
    assert.equal(constraints.length, 4);
    for (const c of constraints) {
      const t = templates.find((x) => field(x, 'spec', 'crd', 'spec', 'names', 'kind') === c.kind);
      assert.ok(t, `template for ${c.kind}`);
      const declared = Object.keys(
        (field(t, 'spec', 'crd', 'spec', 'validation', 'openAPIV3Schema', 'properties') as
          | object
          | undefined) ?? {},
      );
      for (const p of Object.keys((field(c, 'spec', 'parameters') as object | undefined) ?? {})) {
        assert.ok(declared.includes(p), `${c.metadata.name}: parameter ${p} is declared`);
      }
    }
    const actions = Object.fromEntries(
      constraints.map((c) => [c.metadata.name, field(c, 'spec', 'enforcementAction')]),
    );
    assert.equal(actions['vouch-production-signatures'], 'deny');
    assert.equal(actions['vouch-atcr-trusted-did'], 'deny');
  });

  it('Assigns pin every container list of Pods, workloads and CronJobs through vouch-mutation, failing closed', () => {
    const assigns = objects.filter((o) => o.kind === 'Assign');
    const locations = assigns.map((a) => field(a, 'spec', 'location') as string).sort();
    const expected = ['spec.', 'spec.template.spec.', 'spec.jobTemplate.spec.template.spec.']
      .flatMap((p) =>
        ['containers', 'initContainers', 'ephemeralContainers'].map((l) => `${p}${l}[name:*].image`),
      )
      .sort();
    assert.deepEqual(locations, expected);
    for (const a of assigns) {
      assert.equal(field(a, 'spec', 'parameters', 'assign', 'externalData', 'provider'), 'vouch-mutation');
      assert.equal(field(a, 'spec', 'parameters', 'assign', 'externalData', 'failurePolicy'), 'Fail');
      const applyKinds = (field(a, 'spec', 'applyTo') as Array<{ kinds: string[] }>)
        .flatMap((x) => x.kinds)
        .sort();
      const matchKinds = (field(a, 'spec', 'match', 'kinds') as Array<{ kinds: string[] }>)
        .flatMap((x) => x.kinds)
        .sort();
      assert.deepEqual(applyKinds, matchKinds, `${a.metadata.name}: applyTo and match name the same kinds`);
      assert.ok((field(a, 'spec', 'match', 'excludedNamespaces') as string[]).includes('gatekeeper-system'));
    }
    find(objects, 'Provider', 'vouch-mutation');
  });
});
