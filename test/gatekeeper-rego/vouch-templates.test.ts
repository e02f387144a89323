/**
 * Every ConstraintTemplate vouch ships (the kustomize overlay's and the Helm chart's copies),
 * evaluated by the real Rego engine (OPA v0.51.0 with Gatekeeper's external_data client,
 * ../shared/tools/rego) against a live `vouch serve` over HTTPS + mTLS deciding on a real registry:
 * signed, unsigned and mixed Pods, initContainers, kubectl-debug ephemeral containers, every
 * pod-template kind, an object without images, images vouch cannot decide, namespace scoping and
 * parameters, the provider down and a caller without a client certificate; each with
 * StrictBuiltinErrors off (as Gatekeeper) and on. Skipped, saying so, without ../shared.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type LiveVouch, startLiveVouch } from './live.js';
import { type Kind, POD_TEMPLATE_KINDS, type PodImages, review } from './reviews.js';
import {
  assertViolations,
  type Case,
  certificateRequired,
  DISTINCT_SHIPPED_TEMPLATES,
  escapeRegExp,
  evaluateBoth,
  refused,
  SHIPPED_TEMPLATES,
  sentKeys,
  shippedProviderPath,
  type TemplateFile,
  type World,
} from './suite.js';
import { createRegoEngine, skipReason } from './vouchrego.js';

const skip = skipReason();
if (skip) process.stderr.write(`SKIPPED: ${skip}\n`);

/** What one template says about each outcome, in its own words. */
interface Expect {
  readonly parameters: () => unknown;
  /** Violations for an image vouch allowed. */
  readonly allowed: (image: string) => string[];
  readonly denied: (image: string) => string;
  /** The start of a per-key error's message. */
  readonly error: (image: string) => string;
  /** The start of a system error's message. */
  readonly system: string;
}

const WHY_UNSIGNED = 'cosign: no signature found';
const PRODUCTION = 'production namespace production requires signed images';

const EXPECT: Record<string, Expect> = {
  VouchSignatureRequired: {
    parameters: () => ({}),
    allowed: () => [],
    denied: (i) => `image ${i} is not allowed: ${WHY_UNSIGNED}`,
    error: (i) => `image ${i} could not be verified: `,
    system: "vouch could not verify this workload's images: ",
  },
  VouchTrustedDID: {
    // every loopback registry (the test's and the one that is down)
    parameters: () => ({ imagePrefixes: ['127.0.0.1:'], trustedDIDs: ['did:plc:trusted'] }),
    // cosign-signed, so no ATProto signer: allowed by vouch but not by this template
    allowed: (i) => [`image ${i} is not signed by a trusted DID (verified signers: [])`],
    denied: (i) => `image ${i} failed signature verification: ${WHY_UNSIGNED}`,
    error: (i) => `image ${i} could not be verified: `,
    system: "vouch could not verify this workload's images: ",
  },
  VouchProductionNamespaces: {
    parameters: () => ({}),
    allowed: () => [],
    denied: (i) => `${PRODUCTION}. Image ${i} is not signed: ${WHY_UNSIGNED}`,
    error: (i) => `${PRODUCTION}; image ${i} could not be verified: `,
    system: `${PRODUCTION}, and vouch could not verify them: `,
  },
  VouchRatifyVerification: {
    parameters: () => ({}),
    allowed: () => [],
    denied: (i) => `Subject failed verification: ${i}`,
    error: (i) => `Error validating image ${i}: `,
    system: 'System error calling external data provider: ',
  },
};

type Outcome = 'allowed' | 'denied' | 'error';

/** The violations `e` predicts for these images, in any order. */
function predicted(e: Expect, outcomes: ReadonlyArray<readonly [string, Outcome]>): Array<string | RegExp> {
  const one = (image: string, outcome: Outcome): Array<string | RegExp> => {
    switch (outcome) {
      case 'allowed':
        return e.allowed(image);
      case 'denied':
        return [e.denied(image)];
      case 'error':
        return [new RegExp(`^${escapeRegExp(e.error(image))}REFERENCE_INVALID: `)];
    }
  };
  return outcomes.flatMap(([image, outcome]) => one(image, outcome));
}

describe('shipped ConstraintTemplates under the real Rego engine against vouch serve', {
  skip,
  concurrency: true,
}, () => {
  const world = {} as World;
  let live: LiveVouch;
  const verify = () => [{ name: 'vouch', url: `${live.url}${shippedProviderPath('vouch')}` }];

  before(async () => {
    [world.engine, live] = await Promise.all([createRegoEngine(), startLiveVouch()]);
    world.live = live;
  });
  after(async () => {
    await world.engine?.close();
    await live?.close();
  });

  it('finds the four templates in both the kustomize overlay and the Helm chart, each with expectations', () => {
    const kinds = SHIPPED_TEMPLATES.map((t) => t.kind).sort();
    assert.deepEqual(kinds, [...Object.keys(EXPECT), ...Object.keys(EXPECT)].sort());
    // each file is evaluated, once per distinct content
    const labelled = DISTINCT_SHIPPED_TEMPLATES.flatMap((t) => t.label.split(' = ')).sort();
    assert.deepEqual(labelled, SHIPPED_TEMPLATES.map((t) => t.label).sort());
  });

  for (const template of DISTINCT_SHIPPED_TEMPLATES) {
    const e = EXPECT[template.kind] as Expect;
    const run = (c: Omit<Case, 'providers'> & { providers?: Case['providers'] }) =>
      evaluateBoth(world, template, { parameters: e.parameters(), providers: verify(), ...c });
    const pod = (images: PodImages, kind: Kind = 'Pod') => review(kind, images, { namespace: 'production' });

    describe(`${template.label} (${template.kind})`, { concurrency: true }, () => {
      it('a signed Pod: one external_data call with its image', async () => {
        const r = await run({ review: pod({ containers: [live.image.signed] }) });
        assertViolations(r, predicted(e, [[live.image.signed, 'allowed']]), template.label);
        assert.deepEqual(sentKeys(r), [live.image.signed]);
      });

      it('an unsigned Pod: one violation naming the image and why', async () => {
        const r = await run({ review: pod({ containers: [live.image.unsigned] }) });
        assertViolations(r, predicted(e, [[live.image.unsigned, 'denied']]), template.label);
      });

      it('a mixed Pod: the unsigned image only, all images in one call', async () => {
        const images = [live.image.signed, live.image.unsigned, live.image.signed2];
        const r = await run({ review: pod({ containers: images }) });
        const outcomes = [
          [live.image.signed, 'allowed'],
          [live.image.unsigned, 'denied'],
          [live.image.signed2, 'allowed'],
        ] as const;
        assertViolations(r, predicted(e, outcomes), template.label);
        assert.deepEqual(sentKeys(r), images);
      });

      it('an unsigned initContainer beside a signed container', async () => {
        const r = await run({
          review: pod({ containers: [live.image.signed], initContainers: [live.image.unsigned] }),
        });
        const outcomes = [
          [live.image.signed, 'allowed'],
          [live.image.unsigned, 'denied'],
        ] as const;
        assertViolations(r, predicted(e, outcomes), template.label);
        assert.deepEqual(sentKeys(r), [live.image.unsigned, live.image.signed]);
      });

      it('kubectl debug: an unsigned ephemeral container added to a signed Pod', async () => {
        const r = await run({
          review: review(
            'Pod',
            { containers: [live.image.signed], ephemeralContainers: [live.image.unsigned] },
            { namespace: 'production', subResource: 'ephemeralcontainers' },
          ),
        });
        const outcomes = [
          [live.image.signed, 'allowed'],
          [live.image.unsigned, 'denied'],
        ] as const;
        assertViolations(r, predicted(e, outcomes), template.label);
      });

      for (const { kind } of POD_TEMPLATE_KINDS) {
        it(`a ${kind}: reads its pod template (signed container, unsigned initContainer)`, async () => {
          const r = await run({
            review: pod({ containers: [live.image.signed2], initContainers: [live.image.unsigned] }, kind),
          });
          const outcomes = [
            [live.image.signed2, 'allowed'],
            [live.image.unsigned, 'denied'],
          ] as const;
          assertViolations(r, predicted(e, outcomes), `${template.label} ${kind}`);
          assert.deepEqual(sentKeys(r), [live.image.unsigned, live.image.signed2]);
        });
      }

      it('an object without images: no violation and no external_data call', async () => {
        for (const kind of ['Pod', 'Deployment', 'CronJob'] as const) {
          const r = await run({ review: pod({ containers: [] }, kind) });
          assertViolations(r, [], `${template.label} ${kind}`);
          assert.equal(sentKeys(r), undefined);
        }
      });

      it('an image vouch cannot decide (invalid reference): a violation with the per-key error', async () => {
        const bad = `${live.host}/app//bad`;
        const r = await run({ review: pod({ containers: [live.image.signed, bad] }) });
        const outcomes = [
          [live.image.signed, 'allowed'],
          [bad, 'error'],
        ] as const;
        assertViolations(r, predicted(e, outcomes), template.label);
      });

      it('an image on a registry that is down: the per-key error and the system error', async () => {
        const gone = `${new URL(live.downUrl).host}/app:v1`;
        const r = await run({ review: pod({ containers: [gone] }) });
        assertViolations(
          r,
          [
            new RegExp(`^${escapeRegExp(e.system)}1 of 1 images could not be decided`),
            new RegExp(`^${escapeRegExp(e.error(gone))}`),
          ],
          template.label,
        );
      });

      it('vouch down: fails closed with the system error', async () => {
        const r = await run({
          review: pod({ containers: [live.image.signed] }),
          providers: [{ name: 'vouch', url: `${live.downUrl}/gatekeeper/v1/verify` }],
        });
        assertViolations(
          r,
          [new RegExp(`^${escapeRegExp(e.system)}${refused(live.downUrl).source}`)],
          template.label,
        );
      });

      it('no client certificate: vouch refuses the handshake, the template fails closed', async () => {
        const r = await run({ review: pod({ containers: [live.image.signed] }), anonymous: true });
        assertViolations(
          r,
          [new RegExp(`^${escapeRegExp(e.system)}${certificateRequired(live.url).source}`)],
          template.label,
        );
      });
    });
  }

  describe('namespace scoping and parameters', { concurrency: true }, () => {
    const copies = (kind: string): TemplateFile[] =>
      DISTINCT_SHIPPED_TEMPLATES.filter((t) => t.kind === kind);
    const unsignedIn = (namespace: string) =>
      review('Pod', { containers: [live.image.unsigned] }, { namespace });
    const denial = (ns: string) =>
      `production namespace ${ns} requires signed images. Image ${live.image.unsigned} is not signed: ${WHY_UNSIGNED}`;

    for (const t of copies('VouchProductionNamespaces')) {
      it(`${t.label}: checks production, prod and staging by default, and no other namespace`, async () => {
        for (const ns of ['production', 'prod', 'staging']) {
          const r = await evaluateBoth(world, t, { review: unsignedIn(ns), providers: verify() });
          assertViolations(r, [denial(ns)], `${t.label} ${ns}`);
        }
        for (const ns of ['default', 'kube-system', 'production-canary']) {
          const r = await evaluateBoth(world, t, { review: unsignedIn(ns), providers: verify() });
          assertViolations(r, [], `${t.label} ${ns}`);
          assert.equal(sentKeys(r), undefined, `${ns}: no external_data call`);
        }
      });

      it(`${t.label}: the namespaces parameter replaces the default list`, async () => {
        const parameters = { namespaces: ['qa'] };
        const qa = await evaluateBoth(world, t, {
          review: unsignedIn('qa'),
          parameters,
          providers: verify(),
        });
        assertViolations(qa, [denial('qa')], t.label);
        const prod = await evaluateBoth(world, t, {
          review: unsignedIn('production'),
          parameters,
          providers: verify(),
        });
        assertViolations(prod, [], t.label);
      });

      it(`${t.label}: without a request namespace (audit) it reads the object's`, async () => {
        const r = unsignedIn('prod');
        delete r.namespace;
        assertViolations(
          await evaluateBoth(world, t, { review: r, providers: verify() }),
          [denial('prod')],
          t.label,
        );
      });
    }

    for (const t of copies('VouchSignatureRequired')) {
      it(`${t.label}: exemptImagePrefixes keeps an image out of the call`, async () => {
        const r = await evaluateBoth(world, t, {
          review: review('Pod', { containers: [live.image.signed, live.image.unsigned] }),
          parameters: { exemptImagePrefixes: [`${live.host}/app:unsigned`] },
          providers: verify(),
        });
        assertViolations(r, [], t.label);
        assert.deepEqual(sentKeys(r), [live.image.signed]);
      });
    }

    for (const t of copies('VouchTrustedDID')) {
      it(`${t.label}: checks only images under imagePrefixes (default atcr.io/)`, async () => {
        const images = { containers: [live.image.unsigned] };
        const byDefault = await evaluateBoth(world, t, {
          review: review('Pod', images),
          providers: verify(),
        });
        assertViolations(byDefault, [], t.label);
        assert.equal(sentKeys(byDefault), undefined);
        const other = await evaluateBoth(world, t, {
          review: review('Pod', { containers: [live.image.signed, live.image.unsigned] }),
          parameters: { imagePrefixes: [`${live.host}/app:s`] },
          providers: verify(),
        });
        assertViolations(
          other,
          [`image ${live.image.signed} is not signed by a trusted DID (verified signers: [])`],
          t.label,
        );
        assert.deepEqual(sentKeys(other), [live.image.signed]);
      });
    }
  });
});
