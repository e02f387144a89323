/**
 * The engine over a real OCI layout store, with one test verifier at the Verifier seam whose
 * verdict is the content of the artifact's blob (`good`, `bad`, `slow`, `throw`).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMemoryCache } from '../../src/cache/memory.js';
import { classifyFetchError } from '../../src/engine/classify.js';
import { Engine } from '../../src/engine/engine.js';
import { makeReport } from '../../src/engine/reports.js';
import { verifyArtifact } from '../../src/engine/run.js';
import type { Artifact, ArtifactContent, ArtifactNeeds, Verifier } from '../../src/engine/types.js';
import { silentLogger } from '../../src/observability/logger.js';
import { compilePolicy } from '../../src/policy/policy.js';
import { policySchema } from '../../src/policy/types.js';
import { attachArtifact } from '../../src/referrers/attach.js';
import type { RegistryClient } from '../../src/registry/client.js';
import { openLayoutRepository } from '../../src/registry/layout/index.js';
import type { Descriptor, Repository } from '../../src/registry/types.js';
import { pushTestImage } from '../helpers/images.js';

const VERDICT = 'application/vnd.test.verdict';

function verdictVerifier(stats = { active: 0, max: 0 }): Verifier {
  return {
    name: 'verdict',
    generation: 'g1',
    accepts: (a: Artifact) => a.descriptor.artifactType === VERDICT,
    // the engine reads the verdict (the artifact's first layer) and hands over its bytes
    reads: () => ({
      what: 'the verdict',
      layers: { mediaTypes: ['text/plain'], matches: () => true, count: 'first', maxBytes: 1024 },
    }),
    async verify(_subject, artifact, content) {
      stats.active++;
      stats.max = Math.max(stats.max, stats.active);
      try {
        const text = new TextDecoder().decode(content.layers[0]?.bytes);
        await new Promise((r) => setTimeout(r, 5));
        if (text.startsWith('good')) return makeReport('verdict', artifact, 'verified', 'ok', 'good verdict');
        if (text === 'bad')
          return makeReport('verdict', artifact, 'failed', 'untrusted-signer', 'bad verdict');
        if (text === 'throw') throw new Error('verifier bug');
        return await new Promise<never>(() => {}); // "slow": never answers; only the deadline ends it
      } finally {
        stats.active--;
      }
    },
  };
}

let dir: string;
let repo: Repository;
const client: RegistryClient = {
  repository: () => repo,
  close: async () => {},
};

async function imageWith(tag: string, verdicts: string[]): Promise<Descriptor> {
  const subject = await pushTestImage(repo, tag, `${tag}-${Math.random()}`);
  for (const v of verdicts) {
    await attachArtifact(repo, {
      subject,
      artifactType: VERDICT,
      layers: [{ bytes: new TextEncoder().encode(v), mediaType: 'text/plain' }],
    });
  }
  return subject;
}

function engine(
  opts: {
    mode?: 'enforce' | 'audit';
    artifacts?: 'any' | 'all';
    stats?: { active: number; max: number };
    concurrency?: number;
  } = {},
) {
  return new Engine({
    verifiers: [verdictVerifier(opts.stats)],
    policy: compilePolicy(
      policySchema.parse({
        rules: [
          {
            name: 'r',
            scope: '*',
            mode: opts.mode ?? 'enforce',
            require: [{ verifier: 'verdict', artifacts: opts.artifacts ?? 'any' }],
          },
        ],
      }),
    ),
    registry: client,
    cache: createMemoryCache(),
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
  });
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vouch-engine-'));
  repo = openLayoutRepository({ kind: 'layout', dir });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ref = (tag: string) => `oci:${dir}:${tag}`;
const deadline = (ms = 5000) => AbortSignal.timeout(ms);

describe('engine: deciding', () => {
  it('allows an image with a verified artifact and names its digest', async () => {
    const subject = await imageWith('good', ['good']);
    const d = await engine().decide(ref('good'), { signal: deadline() });
    assert.equal(d.allowed, true);
    assert.equal(d.verified, true);
    assert.equal(d.subject.digest, subject.digest);
    assert.equal(d.reports.length, 1);
    assert.equal(d.reports[0]?.outcome, 'verified');
  });

  it('denies an image with no artifacts: no signature found', async () => {
    await imageWith('none', []);
    const d = await engine().decide(ref('none'), { signal: deadline() });
    assert.equal(d.allowed, false);
    assert.match(d.why.join(), /no signature found/);
  });

  it('denies a bad artifact with its reason', async () => {
    await imageWith('bad', ['bad']);
    const d = await engine().decide(ref('bad'), { signal: deadline() });
    assert.equal(d.allowed, false);
    assert.equal(d.reports[0]?.reason, 'untrusted-signer');
  });

  it('turns a verifier that throws into an inconclusive report, not a crash', async () => {
    await imageWith('throws', ['throw']);
    const d = await engine().decide(ref('throws'), { signal: deadline() });
    assert.equal(d.allowed, false);
    assert.equal(d.reports[0]?.outcome, 'inconclusive');
    assert.equal(d.reports[0]?.reason, 'error');
  });

  it('ends a slow verification at the deadline as inconclusive "timeout" and never allows it', async () => {
    await imageWith('slow', ['slow', 'good']);
    const started = Date.now();
    const d = await engine({ artifacts: 'all' }).decide(ref('slow'), { signal: deadline(300) });
    assert.ok(Date.now() - started < 2000, 'the decision came back soon after the deadline');
    assert.equal(d.allowed, false);
    assert.ok(d.reports.some((r) => r.outcome === 'inconclusive' && r.reason === 'timeout'));
  });

  it('audit mode allows a bad image and says enforce would deny', async () => {
    await imageWith('audit', ['bad']);
    const d = await engine({ mode: 'audit' }).decide(ref('audit'), { signal: deadline() });
    assert.equal(d.allowed, true);
    assert.equal(d.wouldDeny, true);
  });

  it('verifies artifacts concurrently, under the bound', async () => {
    await imageWith(
      'many',
      Array.from({ length: 12 }, (_, i) => `good#${i}`),
    );
    const stats = { active: 0, max: 0 };
    const d = await engine({ stats, concurrency: 4 }).decide(ref('many'), { signal: deadline() });
    assert.equal(d.reports.length, 12);
    assert.ok(stats.max > 1, `ran concurrently (max ${stats.max})`);
    assert.ok(stats.max <= 4, `stayed under the bound (max ${stats.max})`);
  });

  it('verifies signatures of an SBOM against the SBOM, listed under it, never as signatures of the image', async () => {
    const subject = await pushTestImage(repo, 'nested', `nested-${Math.random()}`);
    const sbom = await attachArtifact(repo, {
      subject,
      artifactType: 'application/spdx+json',
      layers: [
        { bytes: new TextEncoder().encode('{"spdxVersion":"SPDX-2.3"}'), mediaType: 'application/spdx+json' },
      ],
    });
    await attachArtifact(repo, {
      subject: sbom,
      artifactType: VERDICT,
      layers: [{ bytes: new TextEncoder().encode('good'), mediaType: 'text/plain' }],
    });
    const d = await engine().decide(ref('nested'), { signal: deadline() });
    assert.equal(d.reports.length, 1);
    assert.equal(d.reports[0]?.verifier, 'none');
    assert.equal(d.reports[0]?.artifact.digest, sbom.digest);
    assert.equal(d.reports[0]?.nested[0]?.outcome, 'verified');
    assert.equal(d.allowed, false, 'a verified signature of the SBOM does not sign the image');
  });

  it('does not look for artifacts of a signature (saves a round trip per signature)', async () => {
    const subject = await pushTestImage(repo, 'sigsig', `sigsig-${Math.random()}`);
    const sig = await attachArtifact(repo, {
      subject,
      artifactType: VERDICT,
      layers: [{ bytes: new TextEncoder().encode('good'), mediaType: 'text/plain' }],
    });
    await attachArtifact(repo, {
      subject: sig,
      artifactType: VERDICT,
      layers: [{ bytes: new TextEncoder().encode('bad'), mediaType: 'text/plain' }],
    });
    const d = await engine().decide(ref('sigsig'), { signal: deadline() });
    assert.equal(d.reports.length, 1);
    assert.equal(d.reports[0]?.nested.length, 0);
    assert.equal(d.allowed, true);
  });

  it('resolves a tag to its subject: the manifest descriptor, named for the policy', async () => {
    const subject = await imageWith('pin', []);
    const s = await engine().subject(ref('pin'), deadline());
    assert.equal(s.descriptor.digest, subject.digest);
    assert.equal(s.name, `oci:${dir}`);
  });

  it('changes generation when trust material changes', () => {
    const a = engine().generation;
    const v = { ...verdictVerifier(), generation: 'g2' };
    const b = new Engine({
      verifiers: [v],
      policy: compilePolicy(
        policySchema.parse({ rules: [{ name: 'r', scope: '*', require: [{ verifier: 'verdict' }] }] }),
      ),
      registry: client,
      cache: createMemoryCache(),
    }).generation;
    assert.notEqual(a, b);
  });
});

describe('engine: reading for a verifier (verifyArtifact)', () => {
  const run = (verifier: Verifier, subject: Descriptor, artifact: Descriptor) =>
    verifyArtifact(
      verifier,
      { name: `oci:${dir}`, reference: { kind: 'layout', dir }, descriptor: subject },
      { descriptor: artifact, kind: 'referrer', source: 'layout', referrers: [] },
      {
        repository: repo,
        signal: deadline(),
        cache: createMemoryCache(),
        now: new Date(),
        logger: silentLogger,
      },
    );
  /** A verifier that records what it was handed and verifies whatever it gets. */
  const recording = (needs: ArtifactNeeds, seen: ArtifactContent[], readSubject = false): Verifier => ({
    name: 'recording',
    generation: 'g',
    accepts: () => true,
    reads: () => needs,
    async verify(_s, artifact, content, ctx) {
      seen.push(content);
      if (readSubject) await ctx.readSubjectManifest();
      return makeReport('recording', artifact, 'verified', 'ok', 'read');
    },
  });
  const layers = (...types: string[]) =>
    types.map((mediaType, i) => ({ bytes: new TextEncoder().encode(`layer ${i} ${mediaType}`), mediaType }));

  it('hands the verifier the chosen layers, digest-checked, and nothing else', async () => {
    const subject = await pushTestImage(repo, 'read-layers', `read-layers-${Math.random()}`);
    const artifact = await attachArtifact(repo, {
      subject,
      artifactType: 'application/vnd.test.read',
      layers: layers('a/one', 'b/two', 'a/one'),
    });
    const seen: ArtifactContent[] = [];
    const r = await run(
      recording(
        { what: 'the test artifact', layers: { mediaTypes: ['a/one'], count: { max: 2 }, maxBytes: 64 } },
        seen,
      ),
      subject,
      artifact,
    );
    assert.equal(r.outcome, 'verified', r.message);
    assert.deepEqual(
      seen[0]?.layers.map((l) => [l.descriptor.mediaType, new TextDecoder().decode(l.bytes)]),
      [
        ['a/one', 'layer 0 a/one'],
        ['a/one', 'layer 2 a/one'],
      ],
    );
  });

  it('refuses what does not fit the needs with a named reason, without calling the verifier', async () => {
    const subject = await pushTestImage(repo, 'read-refuse', `read-refuse-${Math.random()}`);
    const other = await pushTestImage(repo, 'read-other', `read-other-${Math.random()}`);
    const two = await attachArtifact(repo, {
      subject,
      artifactType: 'application/vnd.test.r',
      layers: layers('a/one', 'a/one'),
    });
    const seen: ArtifactContent[] = [];
    const cases: Array<[ArtifactNeeds, Descriptor, string]> = [
      [
        { what: 'x', layers: { mediaTypes: ['c/three'], count: 'first', maxBytes: 64 } },
        subject,
        'media-type-mismatch',
      ],
      [{ what: 'x', layers: { mediaTypes: ['a/one'], count: 'one', maxBytes: 64 } }, subject, 'malformed'],
      [
        { what: 'x', layers: { mediaTypes: ['a/one'], count: { max: 1 }, maxBytes: 64 } },
        subject,
        'malformed',
      ],
      [
        { what: 'x', layers: { mediaTypes: ['a/one'], count: 'first', maxBytes: 64, totalLayers: 1 } },
        subject,
        'malformed',
      ],
      [{ what: 'x', layers: { mediaTypes: ['a/one'], count: 'first', maxBytes: 4 } }, subject, 'too-large'],
      [
        {
          what: 'x',
          layers: { mediaTypes: ['a/one'], count: 'first', maxBytes: 64 },
          subjectMismatch: 'subject-mismatch',
        },
        other,
        'subject-mismatch',
      ],
    ];
    for (const [needs, against, reason] of cases) {
      const r = await run(recording(needs, seen), against, two);
      assert.deepEqual([r.outcome, r.reason], ['failed', reason], r.message);
    }
    assert.equal(seen.length, 0, 'the verifier never ran');
  });

  it("reports a failed read of the subject's manifest through the one table, like a read of the artifact", async () => {
    const subject = await pushTestImage(repo, 'read-subject', `read-subject-${Math.random()}`);
    const artifact = await attachArtifact(repo, {
      subject,
      artifactType: 'application/vnd.test.s',
      layers: layers('a/one'),
    });
    const needs: ArtifactNeeds = {
      what: 'x',
      layers: { mediaTypes: ['a/one'], count: 'first', maxBytes: 64 },
    };
    const ok = await run(recording(needs, [], true), subject, artifact);
    assert.equal(ok.outcome, 'verified', ok.message);
    // a subject whose manifest the store does not hold: the same answer the table gives a missing artifact
    const missing = { ...subject, digest: `sha256:${'0'.repeat(64)}` };
    const expected = await repo.fetchManifest(missing).then(
      () => assert.fail('the manifest exists'),
      (err) => classifyFetchError(err),
    );
    const r = await run(recording(needs, [], true), missing, artifact);
    assert.deepEqual([r.outcome, r.reason], [expected.outcome, expected.reason], r.message);
    assert.notEqual(r.reason, 'error');
  });
});
