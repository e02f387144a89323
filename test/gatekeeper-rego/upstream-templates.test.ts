/**
 * The upstream ConstraintTemplates in ../shared/protocols/upstream (read in place, never copied),
 * unchanged, under the real Rego engine against a live `vouch serve` (HTTPS + mTLS, real
 * registry): Ratify v1.4.0's library `default` and `multi-tenancy-validation`, Ratify v2's
 * `default`, and Gatekeeper v3.23.0's external-data test template; each Provider pointed at
 * vouch's route for it (docs/gatekeeper.md "Moving from Ratify"; Ratify v2's
 * `ratify-gatekeeper-provider` at `/ratify/gatekeeper/v2/verify`, where Ratify v2's chart points it).
 * Ratify's library templates that exist only in Ratify's repository are in ratify-library.test.ts.
 * Then the mutation Provider through
 * Gatekeeper's external_data client (fixtures/mutation-probe.yaml: the Assigns themselves are Go,
 * not Rego). StrictBuiltinErrors off and on. Skipped, saying so, without ../shared.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { LiveVouch } from './live.js';
import { startLiveVouch } from './live.js';
import { POD_TEMPLATE_KINDS, type PodImages, review } from './reviews.js';
import {
  assertViolations,
  certificateRequired,
  escapeRegExp,
  evaluateBoth,
  refused,
  sentKeys,
  shippedProviderPath,
  type TemplateFile,
  type World,
} from './suite.js';
import { createRegoEngine, ROOT, SHARED, skipReason } from './vouchrego.js';

interface AssignSpec {
  location: string;
  parameters: { assign: { externalData: { provider: string } } };
}

const skip = skipReason();
if (skip) process.stderr.write(`SKIPPED: ${skip}\n`);

const UPSTREAM = path.join(SHARED, 'protocols', 'upstream');
const upstream = (rel: string, kind: string): TemplateFile => ({
  file: path.join(UPSTREAM, rel),
  label: `../shared/protocols/upstream/${rel}`,
  kind,
});
const R1_DEFAULT = upstream('ratify-v1.4.0/library/default/template.yaml', 'RatifyVerification');
const R1_TENANCY = upstream(
  'ratify-v1.4.0/library/multi-tenancy-validation/template.yaml',
  'RatifyVerification',
);
const R2_DEFAULT = upstream(
  'ratify-main-v2/configs/constrainttemplates/default/template.yaml',
  'RatifyVerification',
);
const GK_DUMMY = upstream(
  'gatekeeper-v3.23.0/test/externaldata/dummy-provider/policy/template.yaml',
  'K8sExternalData',
);
const COVERED = [R1_DEFAULT, R1_TENANCY, R2_DEFAULT, GK_DUMMY];

/** Every template.yaml under a directory. */
function templateFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const p = path.join(dir, entry);
    if (statSync(p).isDirectory()) return templateFiles(p);
    return entry === 'template.yaml' ? [p] : [];
  });
}

/** Ratify v1's message for `isSuccess == false` (timestamp and trace id are vouch's). */
const ratifyFailed = (key: string) =>
  new RegExp(
    `^Time=\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z, failed to verify the artifact: ${escapeRegExp(key)}, trace-id: [0-9a-f-]+$`,
  );
const ratifyError = (key: string) =>
  new RegExp(`^Error validating one or more images: \\["${escapeRegExp(key)}", "REFERENCE_INVALID: `);
const ratifySystem = (re: RegExp) => new RegExp(`^System error calling external data provider: ${re.source}`);
/**
 * When Gatekeeper's client itself fails (HandleError), `errors` is null, and these templates'
 * `count(remote_data.errors)` is a type error under StrictBuiltinErrors (Gatekeeper leaves it off).
 */
const countNull =
  /eval_type_error: count: operand 1 must be one of \{array, object, set, string\} but got null/;

describe('upstream ConstraintTemplates (../shared) under the real Rego engine against vouch serve', {
  skip,
  concurrency: true,
}, () => {
  const world = {} as World;
  let live: LiveVouch;
  /** A Provider of `name` pointing at vouch's `route`. */
  const at = (name: string, route: string, base?: string) => [{ name, url: `${base ?? live.url}${route}` }];
  const ratifyV1 = (base?: string) => at('ratify-provider', '/ratify/gatekeeper/v1/verify', base);
  const pod = (images: PodImages) => review('Pod', images, { namespace: 'production' });

  before(async () => {
    [world.engine, live] = await Promise.all([createRegoEngine(), startLiveVouch()]);
    world.live = live;
  });
  after(async () => {
    await world.engine?.close();
    await live?.close();
  });

  it('covers every template ../shared/protocols/upstream holds', () => {
    assert.deepEqual(templateFiles(UPSTREAM).sort(), COVERED.map((t) => t.file).sort());
  });

  describe(`${R1_DEFAULT.label}: works unchanged (Provider ratify-provider)`, { concurrency: true }, () => {
    const run = (images: PodImages, providers = ratifyV1(), strictError?: RegExp) =>
      evaluateBoth(world, R1_DEFAULT, {
        review: pod(images),
        providers,
        ...(strictError ? { strictError } : {}),
      });

    it('signed: no violation; unsigned: its message with vouch timestamp and trace id', async () => {
      assertViolations(await run({ containers: [live.image.signed] }), [], 'signed');
      assertViolations(
        await run({ containers: [live.image.unsigned] }),
        [ratifyFailed(live.image.unsigned)],
        'unsigned',
      );
    });

    it('mixed, an unsigned initContainer, an unsigned ephemeral container: the unsigned image only', async () => {
      const mixed = await run({ containers: [live.image.signed, live.image.unsigned] });
      assertViolations(mixed, [ratifyFailed(live.image.unsigned)], 'mixed');
      const init = await run({ containers: [live.image.signed], initContainers: [live.image.unsigned] });
      assertViolations(init, [ratifyFailed(live.image.unsigned)], 'init');
      assert.deepEqual(sentKeys(init), [live.image.unsigned, live.image.signed]);
      const debug = await evaluateBoth(world, R1_DEFAULT, {
        review: review(
          'Pod',
          { containers: [live.image.signed], ephemeralContainers: [live.image.unsigned] },
          { subResource: 'ephemeralcontainers' },
        ),
        providers: ratifyV1(),
      });
      assertViolations(debug, [ratifyFailed(live.image.unsigned)], 'ephemeral');
    });

    it('an image vouch cannot decide: one message listing the per-key errors', async () => {
      const bad = `${live.host}/app//bad`;
      assertViolations(await run({ containers: [live.image.signed, bad] }), [ratifyError(bad)], 'bad');
    });

    it('vouch down, or no client certificate: the system error (-strict: an eval error)', async () => {
      const down = await run({ containers: [live.image.signed] }, ratifyV1(live.downUrl), countNull);
      assertViolations(down, [ratifySystem(refused(live.downUrl))], 'down');
      const anonymous = await evaluateBoth(world, R1_DEFAULT, {
        review: pod({ containers: [live.image.signed] }),
        providers: ratifyV1(),
        anonymous: true,
        strictError: countNull,
      });
      assertViolations(anonymous, [ratifySystem(certificateRequired(live.url))], 'no certificate');
    });

    for (const { kind } of POD_TEMPLATE_KINDS) {
      it(`a ${kind} (it reads Pods only): an empty key list, answered, no violation`, async () => {
        // Regression: Gatekeeper sends `"request":{}`; vouch answered 400 and every workload was denied.
        const r = await evaluateBoth(world, R1_DEFAULT, {
          review: review(kind, { containers: [live.image.unsigned] }),
          providers: ratifyV1(),
        });
        assertViolations(r, [], kind);
        assert.deepEqual(sentKeys(r), []);
        assert.equal(r.calls[0]?.rego_response?.status_code, 200);
        assert.equal(r.calls[0]?.rego_response?.system_error, '');
      });
    }

    it('a Pod without images: the same empty call, no violation', async () => {
      const r = await run({ containers: [] });
      assertViolations(r, [], 'no images');
      assert.deepEqual(sentKeys(r), []);
    });
  });

  describe(`${R1_TENANCY.label}: works unchanged ([namespace] keys)`, { concurrency: true }, () => {
    it('sends [namespace]image keys; vouch strips the prefix and echoes the key', async () => {
      const r = await evaluateBoth(world, R1_TENANCY, {
        review: pod({ containers: [live.image.signed, live.image.unsigned] }),
        providers: ratifyV1(),
      });
      assertViolations(r, [ratifyFailed(`[production]${live.image.unsigned}`)], R1_TENANCY.label);
      assert.deepEqual(sentKeys(r), [
        `[production]${live.image.signed}`,
        `[production]${live.image.unsigned}`,
      ]);
    });

    it('a Deployment: the empty key list, no violation', async () => {
      const r = await evaluateBoth(world, R1_TENANCY, {
        review: review('Deployment', { containers: [live.image.signed] }),
        providers: ratifyV1(),
      });
      assertViolations(r, [], R1_TENANCY.label);
    });
  });

  describe(`${R2_DEFAULT.label}: works unchanged (\`succeeded\`)`, { concurrency: true }, () => {
    const v2 = (base?: string) => at('ratify-gatekeeper-provider', '/ratify/gatekeeper/v2/verify', base);
    /** Ratify v2's message for `succeeded == false`: the key, then the whole value (`%v`). */
    const ratify2Failed = (key: string) =>
      new RegExp(
        `^Artifact failed verification: ${escapeRegExp(key)}, \\nreport: \\{.*"succeeded": false`,
        's',
      );
    const run = (images: PodImages) =>
      evaluateBoth(world, R2_DEFAULT, { review: pod(images), providers: v2() });

    it('signed: no violation; unsigned: denied (regression: it passed, vouch sent no `succeeded`)', async () => {
      assertViolations(await run({ containers: [live.image.signed, live.image.signed2] }), [], 'signed');
      const r = await run({ containers: [live.image.unsigned] });
      assertViolations(r, [ratify2Failed(live.image.unsigned)], 'unsigned');
      const value = r.calls[0]?.rego_response?.responses[0]?.[1] as Record<string, unknown>;
      assert.equal(value.succeeded, false);
      assert.equal(value.isSuccess, false);
    });

    it('mixed, and an unsigned initContainer: the unsigned image only', async () => {
      const mixed = await run({ containers: [live.image.signed, live.image.unsigned] });
      assertViolations(mixed, [ratify2Failed(live.image.unsigned)], 'mixed');
      const init = await run({ containers: [live.image.signed], initContainers: [live.image.unsigned] });
      assertViolations(init, [ratify2Failed(live.image.unsigned)], 'init');
    });

    it('errors and system errors still deny (-strict: an eval error when vouch is down)', async () => {
      const bad = `${live.host}/app//bad`;
      const r = await evaluateBoth(world, R2_DEFAULT, {
        review: pod({ containers: [bad] }),
        providers: v2(),
      });
      assertViolations(r, [ratifyError(bad)], 'bad');
      const down = await evaluateBoth(world, R2_DEFAULT, {
        review: pod({ containers: [live.image.signed] }),
        providers: v2(live.downUrl),
        strictError: countNull,
      });
      assertViolations(down, [ratifySystem(refused(live.downUrl))], 'down');
    });
  });

  describe(`${GK_DUMMY.label}: transport only (it reads errors, never values)`, { concurrency: true }, () => {
    const dummy = (base?: string) => at('dummy-provider', shippedProviderPath('vouch'), base);

    it('a Deployment, signed or unsigned: no violation (values are not read)', async () => {
      for (const image of [live.image.signed, live.image.unsigned]) {
        const r = await evaluateBoth(world, GK_DUMMY, {
          review: review('Deployment', { containers: [image] }),
          providers: dummy(),
        });
        assertViolations(r, [], image);
        assert.deepEqual(sentKeys(r), [image]);
      }
    });

    it('a Pod (no spec.template): the empty key list is answered, no violation', async () => {
      const r = await evaluateBoth(world, GK_DUMMY, {
        review: pod({ containers: [live.image.unsigned] }),
        providers: dummy(),
      });
      assertViolations(r, [], GK_DUMMY.label);
      assert.deepEqual(sentKeys(r), []);
    });

    it('vouch down: "invalid response" with the system error (-strict: an eval error)', async () => {
      const r = await evaluateBoth(world, GK_DUMMY, {
        review: review('Deployment', { containers: [live.image.signed] }),
        providers: dummy(live.downUrl),
        strictError: countNull,
      });
      assertViolations(
        r,
        [
          /^invalid response: \{"errors": null, "responses": null, "status_code": 500, "system_error": "failed to send external data request: .*connect: connection refused"\}$/,
        ],
        'down',
      );
    });
  });

  describe("the mutation Provider through Gatekeeper's external_data client", { concurrency: true }, () => {
    const probe: TemplateFile = {
      file: path.join(import.meta.dirname, 'fixtures', 'mutation-probe.yaml'),
      label: 'fixtures/mutation-probe.yaml',
      kind: 'VouchMutationProbe',
    };
    const mutation = () => at('vouch-mutation', shippedProviderPath('vouch-mutation'));

    it("the probe reads exactly the shipped Assigns' locations, all sent to vouch-mutation", () => {
      const text = readFileSync(
        path.join(ROOT, 'deploy/kubernetes/gatekeeper/mutation/assign-pin-digests.yaml'),
        'utf8',
      );
      const assigns = parseAllDocuments(text).map((d) => d.toJS() as { kind: string; spec: AssignSpec });
      assert.ok(assigns.every((a) => a.kind === 'Assign'));
      assert.deepEqual(
        new Set(assigns.map((a) => a.spec.parameters.assign.externalData.provider)),
        new Set(['vouch-mutation']),
      );
      const lists = ['containers', 'initContainers', 'ephemeralContainers'];
      const specs = ['spec', 'spec.template.spec', 'spec.jobTemplate.spec.template.spec'];
      assert.deepEqual(
        assigns.map((a) => a.spec.location).sort(),
        specs.flatMap((p) => lists.map((l) => `${p}.${l}[name:*].image`)).sort(),
      );
    });

    for (const kind of ['Pod', 'Deployment', 'CronJob'] as const) {
      it(`a ${kind}: each tag pinned to its digest, a digest reference unchanged, a bad one an error`, async () => {
        const byDigest = `${live.host}/tool@${live.digest.signed2}`;
        const bad = `${live.host}/app//bad`;
        const r = await evaluateBoth(world, probe, {
          review: review(kind, {
            containers: [live.image.signed, byDigest],
            initContainers: [live.image.unsigned],
            ephemeralContainers: [bad],
          }),
          providers: mutation(),
        });
        assertViolations(
          r,
          [
            `pinned ${live.image.signed} -> ${live.host}/app@${live.digest.signed}`,
            `pinned ${byDigest} -> ${byDigest}`,
            new RegExp(
              `^pinned ${escapeRegExp(live.image.unsigned)} -> ${escapeRegExp(live.host)}/app@sha256:[0-9a-f]{64}$`,
            ),
            new RegExp(`^error ${escapeRegExp(bad)}: REFERENCE_INVALID: `),
          ],
          kind,
        );
      });
    }

    it('no images: the empty key list is answered with status 200 and nothing else', async () => {
      const r = await evaluateBoth(world, probe, {
        review: review('Pod', { containers: [] }),
        providers: mutation(),
      });
      assertViolations(r, [], 'no images');
      assert.deepEqual(sentKeys(r), []);
    });
  });
});
