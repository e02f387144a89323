/**
 * The server over real HTTPS with mTLS on loopback, deciding with the real Engine against a real
 * registry (cosign key signatures): Gatekeeper verify/mutate (and Ratify's paths), /provide,
 * AdmissionReview validate/mutate, probes, metrics, malformed requests.
 * Fixtures in ./fixtures are shaped like ../shared/protocols/fixtures, with {{REGISTRY}} and digest
 * placeholders filled in at run time.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  cosignConfig,
  createClient,
  createPki,
  createSignedImages,
  type RunningServer,
  type SignedImages,
  startServer,
  type TestClient,
  type TestPki,
} from './harness.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

interface Item {
  key: string;
  value?: unknown;
  error?: string;
}
interface ProviderResponse {
  apiVersion: string;
  kind: string;
  response: { idempotent: boolean; items: Item[]; systemError?: string };
}

describe('vouch server (HTTPS + mTLS, real registry, real engine)', { timeout: 90_000 }, () => {
  let registry: TestRegistry;
  let images: SignedImages;
  let pki: TestPki;
  let vouch: RunningServer;
  let client: TestClient;
  let vars: Record<string, string>;

  const fixture = async (name: string): Promise<unknown> => {
    let text = await readFile(path.join(fixtures, name), 'utf8');
    for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`{{${k}}}`, v);
    return JSON.parse(text);
  };

  before(async () => {
    registry = await startRegistry();
    images = await createSignedImages(registry.host);
    const signed = await images.push('app', 'signed', true);
    const unsigned = await images.push('app', 'unsigned', false);
    vars = { REGISTRY: registry.host, SIGNED_DIGEST: signed.digest, UNSIGNED_DIGEST: unsigned.digest };
    pki = await createPki();
    const serverCert = await pki.leaf('server');
    const clientCert = await pki.leaf('client');
    vouch = await startServer(cosignConfig([registry.host], images.publicKeyFile), {
      tls: { certFile: serverCert.cert, keyFile: serverCert.key, clientCaFile: path.join(pki.dir, 'ca.crt') },
      limits: { maxKeys: 50, bodyBytes: 64 * 1024 },
    });
    client = await createClient(path.join(pki.dir, 'ca.crt'), clientCert);
  });
  after(async () => {
    await client?.close();
    await vouch?.stop();
    await images?.close();
    await registry?.stop();
  });

  describe('when Gatekeeper asks to verify', () => {
    it('answers one item per key, echoed byte for byte in order, with a decision report or a per-key error', async () => {
      const request = (await fixture('provider-request.verify.json')) as { request: { keys: string[] } };
      const res = await client.post(`${vouch.url}/gatekeeper/v1/verify`, request);
      assert.equal(res.status, 200);
      const body = res.json as ProviderResponse;
      assert.equal(body.apiVersion, 'externaldata.gatekeeper.sh/v1beta1');
      assert.equal(body.kind, 'ProviderResponse');
      assert.equal(body.response.idempotent, true);
      assert.equal(body.response.systemError, undefined);
      assert.deepEqual(
        body.response.items.map((i) => i.key),
        request.request.keys,
      );
      const [signed, unsigned, dup, namespaced, byDigest, bad] = body.response.items as Item[] & {
        length: 6;
      };
      for (const ok of [signed, dup, namespaced, byDigest]) {
        const v = ok?.value as {
          isSuccess: boolean;
          verified: boolean;
          digest: string;
          verifierReports: Array<{ name: string; isSuccess: boolean }>;
        };
        assert.equal(ok?.error, undefined);
        assert.equal(v.isSuccess, true, JSON.stringify(ok));
        assert.equal(v.verified, true);
        assert.equal(v.digest, vars.SIGNED_DIGEST);
        assert.ok(v.verifierReports.some((r) => r.name === 'cosign' && r.isSuccess));
      }
      const u = unsigned?.value as { isSuccess: boolean; why: string[] };
      assert.equal(u.isSuccess, false);
      assert.ok(u.why.length > 0);
      assert.match(bad?.error ?? '', /^REFERENCE_INVALID/);
      assert.equal(bad?.value, undefined);
    });

    it('answers the same on Ratify paths', async () => {
      const keys = [`${registry.host}/app:unsigned`];
      const res = await client.post(`${vouch.url}/ratify/gatekeeper/v1/verify`, {
        apiVersion: 'externaldata.gatekeeper.sh/v1alpha1',
        kind: 'ProviderRequest',
        request: { keys },
      });
      const item = (res.json as ProviderResponse).response.items[0];
      assert.equal(item?.key, keys[0]);
      assert.equal((item?.value as { isSuccess: boolean } | undefined)?.isSuccess, false);
    });
  });

  describe('when the same images are asked again (the warm path)', () => {
    it("answers from the cache exactly as before, with this request's trace id, and counts the hits", async () => {
      const keys = [
        `${registry.host}/app:signed`,
        `[default]${registry.host}/app:signed`,
        `${registry.host}/app:unsigned`,
      ];
      const hitsOf = async () =>
        Number(
          /^atcr_provider_cache_hits_total (\d+)/m.exec((await client.get(`${vouch.url}/metrics`)).text)?.[1],
        );
      const ask = async () => {
        const res = await client.post(`${vouch.url}/gatekeeper/v1/verify`, {
          apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
          kind: 'ProviderRequest',
          request: { keys },
        });
        assert.equal(res.status, 200);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        return (res.json as ProviderResponse).response.items as Array<{
          key: string;
          value: { traceID: string };
        }>;
      };
      const first = await ask();
      const hitsBefore = await hitsOf();
      const second = await ask();
      assert.equal((await hitsOf()) - hitsBefore, 2, 'two distinct images answered from the cache');
      assert.deepEqual(
        second.map((i) => i.key),
        keys,
      );
      const traces = new Set(second.map((i) => i.value.traceID));
      assert.equal(traces.size, 1, 'one trace id per request');
      assert.notEqual(second[0]?.value.traceID, first[0]?.value.traceID);
      const withoutTrace = (items: typeof first) =>
        items.map((i) => ({ ...i, value: { ...i.value, traceID: '' } }));
      assert.deepEqual(withoutTrace(second), withoutTrace(first));
    });
  });

  describe('when Gatekeeper asks to mutate', () => {
    it('pins tags to digests, leaves digest references unchanged, and is idempotent', async () => {
      const expected = (await fixture('provider-response.mutate.json')) as ProviderResponse;
      for (const p of ['/gatekeeper/v1/mutate', '/ratify/gatekeeper/v1/mutate']) {
        const res = await client.post(`${vouch.url}${p}`, await fixture('provider-request.mutate.json'));
        const body = res.json as ProviderResponse;
        assert.equal(body.response.idempotent, true);
        assert.equal(body.response.items.length, expected.response.items.length);
        expected.response.items.forEach((want, i) => {
          const got = body.response.items[i];
          assert.equal(got?.key, want.key);
          if (want.value !== undefined) assert.equal(got?.value, want.value);
          else assert.match(got?.error ?? '', new RegExp(`^${want.error}`));
        });
      }
    });
  });

  describe('when Gatekeeper sends an empty key list (`"request":{}`: its `Keys` is omitempty)', () => {
    it('answers success with no items on every Gatekeeper path, verify and mutate', async () => {
      for (const p of [
        '/gatekeeper/v1/verify',
        '/gatekeeper/v1/mutate',
        '/ratify/gatekeeper/v1/verify',
        '/ratify/gatekeeper/v1/mutate',
      ]) {
        for (const request of [{}, { keys: [] }]) {
          const res = await client.post(`${vouch.url}${p}`, {
            apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
            kind: 'ProviderRequest',
            request,
          });
          assert.equal(res.status, 200, `${p} ${JSON.stringify(request)}: ${JSON.stringify(res.json)}`);
          const body = res.json as ProviderResponse;
          assert.equal(body.kind, 'ProviderResponse');
          assert.deepEqual(body.response.items, []);
          assert.equal(body.response.systemError, undefined);
        }
      }
    });

    it('still refuses keys that are not a list of strings', async () => {
      const res = await client.post(`${vouch.url}/gatekeeper/v1/verify`, {
        apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
        kind: 'ProviderRequest',
        request: { keys: 'nginx:1.25' },
      });
      assert.equal(res.status, 400);
      assert.match((res.json as ProviderResponse).response.systemError ?? '', /request\.keys/);
    });
  });

  describe('when a request is malformed', () => {
    it('answers bad JSON with a systemError', async () => {
      const res = await client.post(`${vouch.url}/gatekeeper/v1/verify`, '{"apiVersion": ');
      assert.equal(res.status, 400);
      assert.match((res.json as ProviderResponse).response.systemError ?? '', /request rejected/);
    });

    it('answers a wrong kind with a systemError naming the field', async () => {
      const res = await client.post(`${vouch.url}/gatekeeper/v1/verify`, {
        apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
        kind: 'AdmissionReview',
        request: { keys: [] },
      });
      assert.match((res.json as ProviderResponse).response.systemError ?? '', /kind/);
    });

    it('refuses more keys than the limit, and a body over the size limit', async () => {
      const many = Array.from({ length: 2000 }, (_, i) => `r.example/a:${i}`);
      const res = await client.post(`${vouch.url}/gatekeeper/v1/verify`, {
        apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
        kind: 'ProviderRequest',
        request: { keys: many.slice(0, 51) },
      });
      assert.equal(res.status, 413);
      assert.match((res.json as ProviderResponse).response.systemError ?? '', /too many keys: 51/);
      const huge = await client.post(`${vouch.url}/gatekeeper/v1/verify`, {
        apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
        kind: 'ProviderRequest',
        request: { keys: many },
      });
      assert.equal(huge.status, 413);
      assert.ok((huge.json as ProviderResponse).response.systemError);
    });
  });

  describe('when the Kubernetes API server sends an AdmissionReview', () => {
    it('denies a kubectl-debug ephemeral container with an unsigned image, naming it, and echoes the uid', async () => {
      const review = (await fixture('admissionreview.pod-ephemeralcontainers.request.json')) as {
        request: { uid: string };
      };
      const res = await client.post(`${vouch.url}/admission/validate?timeout=10s`, review);
      assert.equal(res.status, 200);
      const body = res.json as {
        apiVersion: string;
        kind: string;
        response: {
          uid: string;
          allowed: boolean;
          status: { code: number; reason: string; message: string };
          patch?: string;
        };
      };
      assert.equal(body.apiVersion, 'admission.k8s.io/v1');
      assert.equal(body.kind, 'AdmissionReview');
      assert.equal(body.response.uid, review.request.uid);
      assert.equal(body.response.allowed, false);
      assert.equal(body.response.status.code, 403);
      assert.equal(body.response.status.reason, 'Forbidden');
      assert.match(body.response.status.message, /1 of 4 images failed/);
      assert.match(body.response.status.message, /ephemeralContainers\[debugger-x7k2p\] .*app:unsigned/);
      assert.equal(body.response.patch, undefined);
    });

    it('allows a CronJob whose images are signed, and warns about mutable tags', async () => {
      const review = (await fixture('admissionreview.cronjob-create.request.json')) as {
        request: { uid: string };
      };
      const res = await client.post(`${vouch.url}/admission/validate`, review);
      const body = res.json as { response: { uid: string; allowed: boolean; warnings?: string[] } };
      assert.equal(body.response.uid, review.request.uid);
      assert.equal(body.response.allowed, true);
      assert.ok(
        body.response.warnings?.some((w) => w.includes('containers[main]') && w.includes('mutable tag')),
      );
    });

    it('mutates a CronJob with test+replace pairs pinning tags to digests, base64-encoded', async () => {
      const review = (await fixture('admissionreview.cronjob-create.request.json')) as {
        request: { uid: string };
      };
      const res = await client.post(`${vouch.url}/admission/mutate`, review);
      const body = res.json as {
        response: { uid: string; allowed: boolean; patchType: string; patch: string };
      };
      assert.equal(body.response.allowed, true);
      assert.equal(body.response.patchType, 'JSONPatch');
      const patch = JSON.parse(Buffer.from(body.response.patch, 'base64').toString('utf8'));
      const pointer = '/spec/jobTemplate/spec/template/spec/containers/0/image';
      assert.deepEqual(patch, [
        { op: 'test', path: pointer, value: `${registry.host}/app:signed` },
        { op: 'replace', path: pointer, value: `${registry.host}/app@${vars.SIGNED_DIGEST}` },
      ]);
    });

    it('allows without checking in an excluded namespace, and rejects a review of the wrong kind', async () => {
      const review = (await fixture('admissionreview.pod-ephemeralcontainers.request.json')) as {
        request: { namespace: string };
      };
      review.request.namespace = 'kube-system';
      const res = await client.post(`${vouch.url}/admission/validate`, review);
      assert.equal((res.json as { response: { allowed: boolean } }).response.allowed, true);
      const wrong = await client.post(`${vouch.url}/admission/validate`, {
        apiVersion: 'admission.k8s.io/v1beta1',
        kind: 'AdmissionReview',
        request: {},
      });
      assert.equal(wrong.status, 400);
    });
  });

  describe('when /provide is called (ATCR provider API)', () => {
    it('answers one response per value with verified, digest and signers', async () => {
      const res = await client.post(`${vouch.url}/provide`, {
        keys: ['image'],
        values: [`${registry.host}/app:signed`, `${registry.host}/app:unsigned`],
      });
      const { responses } = res.json as {
        responses: Array<{
          image: string;
          verified: boolean;
          digest?: string;
          signers?: unknown[];
          error?: string;
        }>;
      };
      assert.equal(responses.length, 2);
      assert.equal(responses[0]?.verified, true);
      assert.equal(responses[0]?.digest, vars.SIGNED_DIGEST);
      assert.ok((responses[0]?.signers?.length ?? 0) >= 1);
      assert.equal(responses[1]?.verified, false);
      assert.ok(responses[1]?.error);
    });
  });

  describe('probes, metrics and client certificates', () => {
    it('serves /health, /ready and /metrics with the ATCR and vouch metric names', async () => {
      const health = await client.get(`${vouch.url}/health`);
      assert.equal(health.status, 200);
      assert.equal(JSON.parse(health.text).status, 'ok');
      const ready = await client.get(`${vouch.url}/ready`);
      assert.equal(ready.status, 200);
      assert.equal(JSON.parse(ready.text).checks.tls.mtls, true);
      const metrics = (await client.get(`${vouch.url}/metrics`)).text;
      for (const name of [
        'atcr_provider_requests_total',
        'atcr_provider_request_duration_seconds',
        'atcr_provider_verifications_total',
        'atcr_provider_verification_duration_seconds',
        'atcr_provider_cache_hits_total',
        'atcr_provider_cache_misses_total',
        'vouch_verifier_reports_total{verifier="cosign",outcome="verified"',
        'vouch_requests_rejected_total',
      ]) {
        assert.ok(metrics.includes(name), `metric ${name} missing`);
      }
      assert.match(metrics, /atcr_provider_cache_hits_total [1-9]/);
      // registry traffic, by host/method/status/kind and its duration by host (label sets memoized)
      assert.match(
        metrics,
        /vouch_registry_requests_total\{host="[^"]+",method="GET",status="200",kind="registry"\} [1-9]/,
      );
      assert.match(metrics, /vouch_registry_request_duration_seconds_count\{host="[^"]+"\} [1-9]/);
    });

    it('refuses a client without a certificate, and one whose certificate another CA signed', async () => {
      const anonymous = await createClient(path.join(pki.dir, 'ca.crt'));
      await assert.rejects(anonymous.get(`${vouch.url}/health`));
      await anonymous.close();
      await pki.ca('other-ca');
      const stranger = await createClient(
        path.join(pki.dir, 'ca.crt'),
        await pki.leaf('stranger', 'other-ca'),
      );
      await assert.rejects(stranger.get(`${vouch.url}/health`));
      await stranger.close();
    });
  });
});
