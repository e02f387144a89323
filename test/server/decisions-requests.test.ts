/**
 * Registry requests per decision through the server's DecisionService (src/server/decisions.ts),
 * on the real registry with the real engine, counted with the registry client's onRequest hook:
 * a cold image resolves its tag once and verifies; a warm image costs nothing; a cached resolution
 * with an expired decision verifies again without resolving anything (the cached resolution keeps
 * the manifest descriptor, so the subject is rebuilt without I/O). An image holds one
 * `imageConcurrency` slot from its HEAD to its decision. Keys naming a local OCI layout are
 * refused before any I/O.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMemoryCache } from '../../src/cache/memory.js';
import type { Cache } from '../../src/cache/types.js';
import { composeConfig } from '../../src/config/compose.js';
import { buildRuntime, type Runtime } from '../../src/config/runtime.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createServerMetrics } from '../../src/observability/metrics.js';
import { parseReference } from '../../src/reference/parse.js';
import { createRegistryClient } from '../../src/registry/client.js';
import type { RegistryRequestEvent } from '../../src/registry/remote/options.js';
import {
  createDecisionService,
  type DecisionEngine,
  type DecisionService,
} from '../../src/server/decisions.js';
import { signNotation } from '../../src/sign/notation/index.js';
import { generateTestCertificate } from '../../src/sign/notation/testcert.js';
import { pushTestImage } from '../helpers/images.js';
import { writeNotationDir } from '../helpers/notation-dir.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

/** Lifetime of a decision in these tests: long enough for the warm case, short enough to wait out. */
const DECISION_TTL_MS = 300;

describe('registry requests per server decision', { timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let runtime: Runtime;
  let decisions: DecisionService;
  let ref: string;
  let other: string;
  let digest: string;
  let coldRequests: string[] = [];
  const events: RegistryRequestEvent[] = [];

  const serviceOf = (engine: DecisionEngine, cache: Cache, imageConcurrency: number): DecisionService =>
    createDecisionService({
      engine,
      cache,
      metrics: createServerMetrics(),
      logger: silentLogger,
      computeTimeoutMs: 10_000,
      imageConcurrency,
      cacheEnabled: true,
      ttlMs: DECISION_TTL_MS,
      negativeTtlMs: DECISION_TTL_MS,
      resolveTtlMs: 60_000,
    });

  /** The real engine, recording `resolve <repository>` and `decide <repository>` calls. */
  const recordingEngine = (calls: string[]): DecisionEngine => {
    const engine = runtime.engine;
    return {
      generation: engine.generation,
      async resolveImage(r, signal) {
        calls.push(`resolve ${r.repository}`);
        return engine.resolveImage(r, signal);
      },
      imageSubject: (r, descriptor) => engine.imageSubject(r, descriptor),
      async decideSubject(reference, subject, options) {
        calls.push(`decide ${subject.name.slice(registry.host.length + 1)}`);
        return engine.decideSubject(reference, subject, options);
      },
    };
  };

  /** The requests `fn` made, as `METHOD path`. */
  const requestsOf = async (fn: () => Promise<unknown>): Promise<string[]> => {
    const from = events.length;
    await fn();
    return events.slice(from).map((e) => `${e.method} ${e.path}`);
  };

  before(async () => {
    registry = await startRegistry();
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-decisions-requests-'));
    ref = `${registry.host}/srv/app:v1`;
    other = `${registry.host}/srv/other:v1`;
    const client = createRegistryClient({ insecureHosts: [registry.host] });
    const repository = client.repository(parseReference(ref));
    const subject = await pushTestImage(repository, 'v1', 'decisions-requests');
    // v2: another tag of the same manifest
    assert.equal((await pushTestImage(repository, 'v2', 'decisions-requests')).digest, subject.digest);
    digest = subject.digest;
    const cert = await generateTestCertificate({ name: 'decisions.test', keyAlgorithm: 'ec-p256' });
    await signNotation({
      repository,
      subject,
      keyPem: cert.keyPem,
      certChainPem: cert.certPem,
      envelope: 'jws',
    });
    await pushTestImage(client.repository(parseReference(other)), 'v1', 'decisions-requests-other');
    await client.close();
    const notationDir = await writeNotationDir(path.join(dir, 'notation'), cert.certPem);
    const loaded = await composeConfig({ flags: { notationDir, insecureRegistry: [registry.host] } });
    runtime = await buildRuntime(loaded.config, {
      baseDir: loaded.baseDir,
      onRegistryRequest: (e) => events.push(e),
    });
    decisions = serviceOf(runtime.engine, createMemoryCache(), 4);
  });
  after(async () => {
    await runtime?.close();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const tagHead = () => `HEAD /v2/srv/app/manifests/v1`;
  const digestHead = () => `HEAD /v2/srv/app/manifests/${digest}`;

  it('when the image is cold: one HEAD of the tag, then discovery and verification', async (t) => {
    let allowed: boolean | undefined;
    const requests = await requestsOf(async () => {
      const result = await decisions.decide(ref, AbortSignal.timeout(10_000));
      assert.equal(result.kind, 'decision');
      if (result.kind === 'decision') {
        assert.equal(result.cached, false);
        allowed = result.decision.allowed && result.decision.verified;
      }
    });
    t.diagnostic(`cold image: ${requests.length} registry requests: ${requests.join(', ')}`);
    coldRequests = requests;
    assert.equal(allowed, true);
    assert.equal(requests.filter((r) => r === tagHead()).length, 1);
    assert.equal(requests.filter((r) => r === digestHead()).length, 0);
  });

  it('when the image is warm: no registry request', async (t) => {
    const requests = await requestsOf(async () => {
      const result = await decisions.decide(ref, AbortSignal.timeout(10_000));
      assert.equal(result.kind === 'decision' && result.cached, true);
    });
    t.diagnostic(`warm image: ${requests.length} registry requests`);
    assert.deepEqual(requests, []);
  });

  it('when the resolution is cached and the decision expired: verification only, nothing resolved', async (t) => {
    await new Promise((r) => setTimeout(r, DECISION_TTL_MS + 100));
    const requests = await requestsOf(async () => {
      const result = await decisions.decide(ref, AbortSignal.timeout(10_000));
      assert.equal(result.kind, 'decision');
      if (result.kind === 'decision') {
        assert.equal(result.cached, false);
        assert.equal(result.decision.allowed && result.decision.verified, true);
        assert.equal(result.decision.subject.digest, digest);
        assert.equal(result.decision.subject.mediaType, 'application/vnd.oci.image.manifest.v1+json');
      }
    });
    t.diagnostic(
      `cached resolution, expired decision: ${requests.length} registry requests: ${requests.join(', ')}`,
    );
    assert.equal(requests.filter((r) => r === tagHead()).length, 0, 'no HEAD of the tag');
    assert.equal(requests.filter((r) => r === digestHead()).length, 0, 'no HEAD of name@digest');
    // the cold decision's requests but its HEAD of the tag and the Referrers API probe (the
    // client remembers that this registry has no Referrers API)
    assert.deepEqual(
      requests,
      coldRequests.filter((r) => r !== tagHead() && !r.includes('/referrers/')),
    );
  });

  it('when a cached resolution was written by an earlier version (no descriptor): one HEAD of name@digest', async () => {
    const cache = createMemoryCache();
    await cache.set(`resolve:${ref}`, { name: `${registry.host}/srv/app`, digest }, 60_000);
    const service = serviceOf(runtime.engine, cache, 4);
    const requests = await requestsOf(async () => {
      const result = await service.decide(ref, AbortSignal.timeout(10_000));
      assert.equal(result.kind === 'decision' && result.decision.verified, true);
    });
    assert.equal(requests.filter((r) => r === tagHead()).length, 0);
    assert.equal(requests.filter((r) => r === digestHead()).length, 1);
  });

  it('when images queue for the only slot: each holds it from its HEAD to its decision', async () => {
    const calls: string[] = [];
    const service = serviceOf(recordingEngine(calls), createMemoryCache(), 1);
    const results = await Promise.all(
      [ref, other].map((key) => service.decide(key, AbortSignal.timeout(10_000))),
    );
    assert.deepEqual(
      results.map((r) => r.kind),
      ['decision', 'decision'],
    );
    assert.deepEqual(calls, ['resolve srv/app', 'decide srv/app', 'resolve srv/other', 'decide srv/other']);
  });

  it('when the same cold key is asked for at once: one resolution, one verification', async () => {
    const calls: string[] = [];
    const service = serviceOf(recordingEngine(calls), createMemoryCache(), 4);
    const results = await Promise.all([1, 2, 3].map(() => service.decide(ref, AbortSignal.timeout(10_000))));
    assert.deepEqual(
      results.map((r) => r.kind === 'decision' && r.cached),
      [false, true, true],
    );
    assert.deepEqual(calls, ['resolve srv/app', 'decide srv/app']);
  });

  it('when a cold tag and a resolved tag of one digest queue for the only slot: both are decided, once', async () => {
    const calls: string[] = [];
    const cache = createMemoryCache();
    const resolved = `${registry.host}/srv/app:v2`;
    const { descriptor } = await runtime.engine.resolveImage(
      parseReference(ref),
      AbortSignal.timeout(10_000),
    );
    await cache.set(`resolve:${resolved}`, { name: `${registry.host}/srv/app`, ...descriptor }, 60_000);
    const service = serviceOf(recordingEngine(calls), cache, 1);
    const results = await Promise.all(
      [ref, resolved].map((key) => service.decide(key, AbortSignal.timeout(10_000))),
    );
    assert.deepEqual(
      results.map((r) => r.kind === 'decision' && r.decision.verified),
      [true, true],
    );
    assert.equal(calls.filter((c) => c.startsWith('decide')).length, 1);
  });

  it('when a key names a local OCI layout: refused with REFERENCE_INVALID before any I/O', async () => {
    const layout = path.join(dir, 'layout');
    const requests = await requestsOf(async () => {
      for (const key of [`oci:${layout}:v1`, `oci:${layout}`]) {
        const result = await decisions.decide(key, AbortSignal.timeout(10_000));
        assert.equal(result.kind, 'error');
        if (result.kind === 'error') {
          assert.equal(result.code, 'REFERENCE_INVALID');
          assert.match(result.message, /OCI layout reference .* is not a registry reference/);
          assert.equal(result.transient, false);
        }
        const pinned = await decisions.pin(key, AbortSignal.timeout(10_000));
        assert.equal(pinned.kind === 'error' && pinned.code, 'REFERENCE_INVALID');
      }
    });
    assert.deepEqual(requests, []);
  });
});
