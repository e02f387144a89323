/**
 * Fuzzing the server's request bodies: Gatekeeper ProviderRequests (verify and mutate), /provide,
 * and Kubernetes AdmissionReviews (validate and mutate), sent through the real Fastify app
 * (`app.inject`, no socket) with a fake engine at the DecisionEngine seam. Properties: no body
 * makes the server answer 500 or a non-JSON body; an AdmissionReview that parses is answered with
 * its uid; a body over `server.limits.bodyBytes` is refused with 413 before any handler reads it.
 * Pod specs are also fuzzed directly (podImages, podPlatforms).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createMemoryCache } from '../../src/cache/memory.js';
import type { Decision } from '../../src/engine/types.js';
import { VouchError } from '../../src/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import { parseServerConfig } from '../../src/server/config.js';
import type { DecisionEngine } from '../../src/server/decisions.js';
import { podImages } from '../../src/server/pod-images.js';
import { podPlatforms } from '../../src/server/pod-platforms.js';
import { createServer, type VouchServer } from '../../src/server/server.js';
import {
  arbitraryBytes,
  check,
  checkAsync,
  hostileValue,
  mutatedJson,
  outcome,
  recordFixed,
} from './harness.js';

const BODY_LIMIT = 64 * 1024;
const DIGEST = `sha256:${createHash('sha256').update('fuzz').digest('hex')}`;

/** Images named "deny…" are denied, "missing…" are not found, the rest allowed. */
const engine: DecisionEngine = {
  generation: 'fuzz',
  async resolveImage(ref) {
    const name = `${ref.registry}/${ref.repository}`;
    if (name.includes('missing')) throw new VouchError('REGISTRY_NOT_FOUND', `${name} not found`);
    return engine.imageSubject(ref, {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: DIGEST,
      size: 1,
    });
  },
  imageSubject(ref, descriptor) {
    return { name: `${ref.registry}/${ref.repository}`, reference: ref, descriptor, repository: {} } as never;
  },
  async decideSubject(reference, subject) {
    const allowed = !reference.includes('deny');
    const decision: Decision = {
      allowed,
      verified: allowed,
      mode: 'enforce',
      wouldDeny: !allowed,
      reference,
      subject: { name: subject.name, digest: DIGEST, mediaType: subject.descriptor.mediaType, size: 1 },
      rule: 'default',
      why: allowed ? [] : ['fuzz: denied'],
      reports: [],
      decidedAt: new Date(0).toISOString(),
    };
    return decision;
  },
};

let server: VouchServer;
before(async () => {
  const config = parseServerConfig({ tls: { insecureHttp: true }, limits: { bodyBytes: BODY_LIMIT } });
  server = await createServer({
    engine,
    cache: createMemoryCache(),
    logger: silentLogger,
    config,
    decisionTtlMs: 60_000,
  });
  await server.app.ready();
});
after(async () => {
  await server.close();
});

const images = fc.oneof(
  fc.constantFrom(
    'registry.test/app:1',
    `registry.test/app@${DIGEST}`,
    'registry.test/deny:1',
    'registry.test/missing:1',
    '[ns]registry.test/app:1',
    '',
    'not a reference',
    'UPPER/case',
  ),
  fc.string({ maxLength: 40 }),
);
const providerRequest = (keys: string[]) => ({
  apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
  kind: 'ProviderRequest',
  request: { keys },
});
const pod = (containerImages: string[]) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', annotations: {} },
  spec: {
    nodeSelector: { 'kubernetes.io/arch': 'amd64' },
    initContainers: [{ name: 'init', image: containerImages[0] ?? 'registry.test/app:1' }],
    containers: containerImages.map((image, i) => ({ name: `c${i}`, image })),
  },
});
const admissionReview = (object: unknown, kind = 'Pod') => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'u-1',
    kind: { group: '', version: 'v1', kind },
    operation: 'CREATE',
    namespace: 'default',
    object,
  },
});

const ROUTES = {
  gatekeeper: ['/gatekeeper/v1/verify', '/gatekeeper/v1/mutate', '/ratify/gatekeeper/v1/verify'],
  provide: ['/provide'],
  admission: ['/admission/validate', '/admission/mutate'],
} as const;

async function post(url: string, payload: string | Buffer, contentType = 'application/json') {
  const res = await server.app.inject({
    method: 'POST',
    url,
    payload,
    headers: { 'content-type': contentType },
  });
  assert.notEqual(res.statusCode, 500, `${url} answered 500: ${res.body.slice(0, 300)}`);
  assert.ok(res.statusCode < 500 || res.statusCode === 503, `${url} answered ${res.statusCode}`);
  if (res.body !== '')
    assert.doesNotThrow(() => JSON.parse(res.body), `${url} answered non-JSON: ${res.body.slice(0, 200)}`);
  return res;
}

const bodies = (valid: fc.Arbitrary<unknown>) =>
  fc.oneof(
    valid.map((v) => JSON.stringify(v)),
    valid.chain((v) => mutatedJson(v)).map((v) => JSON.stringify(v) ?? 'null'),
    hostileValue().map((v) => JSON.stringify(v) ?? 'null'),
    arbitraryBytes(256).map((b) => Buffer.from(b).toString('utf8')),
  );

describe('when server request bodies are fuzzed', () => {
  it('ProviderRequests: never 500, always JSON', async () => {
    await checkAsync(
      'server: ProviderRequest',
      [
        fc.constantFrom(...ROUTES.gatekeeper, ...ROUTES.provide),
        bodies(fc.array(images, { maxLength: 6 }).map(providerRequest)),
      ],
      async (url, body) => {
        await post(url, body);
      },
      2,
    );
  });

  it('/provide bodies: never 500, always JSON', async () => {
    await checkAsync(
      'server: provide',
      [bodies(fc.array(images, { maxLength: 6 }).map((values) => ({ keys: ['image'], values })))],
      async (body) => {
        await post('/provide', body);
      },
    );
  });

  it('AdmissionReviews: never 500; one that parses is answered with its uid', async () => {
    const kinds = fc.constantFrom(
      'Pod',
      'Deployment',
      'CronJob',
      'constructor',
      '__proto__',
      'toString',
      'Job',
    );
    await checkAsync(
      'server: AdmissionReview',
      [
        fc.constantFrom(...ROUTES.admission),
        bodies(
          fc
            .tuple(fc.array(images, { minLength: 1, maxLength: 4 }), kinds)
            .map(([imgs, kind]) => admissionReview(pod(imgs), kind)),
        ),
      ],
      async (url, body) => {
        const res = await post(url, body);
        if (res.statusCode === 200) {
          const review = JSON.parse(res.body) as { response?: { uid?: unknown; allowed?: unknown } };
          assert.equal(typeof review.response?.allowed, 'boolean');
          assert.equal(typeof review.response?.uid, 'string');
        }
      },
      3,
    );
  });

  it('a body over the limit is refused with 413, on every route', async () => {
    await checkAsync(
      'server: body limit',
      [
        fc.constantFrom(...ROUTES.gatekeeper, ...ROUTES.provide, ...ROUTES.admission),
        fc.integer({ min: 1, max: 4096 }),
      ],
      async (url, extra) => {
        const keys = Array.from(
          { length: Math.ceil((BODY_LIMIT + extra) / 20) },
          (_, i) => `registry.test/a${i}:1`,
        );
        const body = JSON.stringify(providerRequest(keys));
        assert.ok(body.length > BODY_LIMIT);
        const res = await post(url, body);
        assert.equal(res.statusCode, 413);
      },
      0.2,
    );
  });

  it('bodies with other content types: never 500', async () => {
    await checkAsync(
      'server: content types',
      [
        fc.constantFrom(...ROUTES.gatekeeper, ...ROUTES.admission),
        fc.constantFrom(
          'text/plain',
          'application/json; charset=latin1',
          'application/x-www-form-urlencoded',
          'application/json;',
          '',
        ),
        arbitraryBytes(128),
      ],
      async (url, type, body) => {
        await post(url, Buffer.from(body), type);
      },
      0.5,
    );
  });
});

describe('when pod specs are fuzzed', () => {
  // Regression (found by 'pod: images and platforms', seed 20261207): POD_SPEC_PATHS["hasOwnProperty"]
  // (or "constructor") found Object.prototype's function, and podImages threw "path is not iterable".
  // The admission route checks isSupportedKind (own keys) first, so no request reached it.
  it('a kind named after an Object.prototype member has no pod spec', () => {
    for (const kind of ['hasOwnProperty', 'constructor', 'toString', '__proto__', 'valueOf']) {
      assert.deepEqual(podImages(kind, pod(['registry.test/app:1'])), []);
      assert.equal(podPlatforms(kind, pod(['registry.test/app:1'])), undefined);
    }
    recordFixed('pod: prototype kind regression', 5);
  });

  it('podImages and podPlatforms never throw, for any kind and object', () => {
    const kinds = fc.oneof(
      fc.constantFrom(
        'Pod',
        'Deployment',
        'StatefulSet',
        'DaemonSet',
        'ReplicaSet',
        'Job',
        'CronJob',
        'ReplicationController',
        'constructor',
        '__proto__',
        'toString',
        'hasOwnProperty',
      ),
      fc.string({ maxLength: 12 }),
    );
    const objects = fc.oneof(mutatedJson(pod(['registry.test/app:1', 'registry.test/b:2'])), hostileValue());
    check(
      'pod: images and platforms',
      [kinds, objects],
      (kind, object) => {
        outcome(() => podImages(kind, object), []);
        outcome(() => podPlatforms(kind, object), []);
      },
      2,
    );
  });
});
