/**
 * Discovery benchmark: how many registry HTTP requests `resolve` + `discoverArtifacts` of a
 * tagged image with one referrer costs, by kind, and the wall time of 100 concurrent discovers.
 *
 *   source scripts/env.sh && node --import tsx bench/discover.ts
 *
 * Registry: Debian's docker-registry (distribution 2.8, no Referrers API: tag-schema fallback),
 * started on loopback by test/helpers/registry.ts. The Referrers API path is counted against the
 * test fault server (test/helpers/fault-server.ts) playing a registry that has the API, since no
 * real registry on this machine does. Requests are counted with RemoteRegistry's `onRequest`.
 */
import { performance } from 'node:perf_hooks';
import { parseReference } from '../src/reference/parse.js';
import { attachArtifact } from '../src/referrers/attach.js';
import { discoverArtifacts } from '../src/referrers/discover.js';
import { type RegistryRequestEvent, RemoteRegistry } from '../src/registry/remote/index.js';
import { type Descriptor, MediaType } from '../src/registry/types.js';
import { type FaultServer, sendJson, startFaultServer } from '../test/helpers/fault-server.js';
import { buildTestImage, pushTestImage } from '../test/helpers/images.js';
import { startRegistry } from '../test/helpers/registry.js';

type Kind = 'resolve' | 'referrers-api' | 'referrers-tag' | 'cosign-tag' | 'token' | 'other';

/** What a request was for, from its method and path. */
function classify(e: RegistryRequestEvent): Kind {
  if (e.kind === 'token') return 'token';
  if (e.path.includes('/referrers/')) return 'referrers-api';
  const tag = /\/manifests\/([^/?]+)/.exec(e.path)?.[1] ?? '';
  if (/^sha(256|512)-[a-f0-9]+\.(sig|att|sbom)$/.test(tag)) return 'cosign-tag';
  if (/^sha(256|512)-[a-f0-9]+$/.test(tag)) return 'referrers-tag';
  if (tag !== '') return 'resolve';
  return 'other';
}

function tally(events: readonly RegistryRequestEvent[]): string {
  const counts = new Map<Kind, number>();
  for (const e of events) counts.set(classify(e), (counts.get(classify(e)) ?? 0) + 1);
  const parts = [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
  return `${String(events.length).padStart(3)} requests (${parts})`;
}

interface Scenario {
  readonly label: string;
  readonly depth: number;
  readonly cosignTags: boolean;
}

const SCENARIOS: readonly Scenario[] = [
  { label: 'depth 1, cosignTags false', depth: 1, cosignTags: false },
  { label: 'depth 3, cosignTags false', depth: 3, cosignTags: false },
  { label: 'depth 3, cosignTags true (default)', depth: 3, cosignTags: true },
];

/** Counts one resolve + discover on a fresh client (cold: the Referrers API probe is not memoized yet). */
async function count(host: string, repository: string, scenario: Scenario): Promise<string> {
  const events: RegistryRequestEvent[] = [];
  const client = new RemoteRegistry({ insecureHosts: [host], onRequest: (e) => events.push(e) });
  try {
    const repo = client.repository(parseReference(`${host}/${repository}`));
    const subject = await repo.resolve('v1');
    const artifacts = await discoverArtifacts(repo, subject, {
      depth: scenario.depth,
      cosignTags: scenario.cosignTags,
    });
    if (artifacts.length !== 1) throw new Error(`expected 1 referrer, found ${artifacts.length}`);
    const cold = tally(events);
    events.length = 0;
    await discoverArtifacts(repo, await repo.resolve('v1'), {
      depth: scenario.depth,
      cosignTags: scenario.cosignTags,
    });
    return `  ${scenario.label.padEnd(36)} cold ${cold}\n  ${''.padEnd(36)} warm ${tally(events)}`;
  } finally {
    await client.close();
  }
}

/** A fault server answering as a registry with the Referrers API: the image, one referrer, no cosign tags. */
async function referrersApiServer(): Promise<FaultServer> {
  const subject = buildTestImage('bench-api-subject');
  const referrer: Descriptor = buildTestImage('bench-api-referrer', {
    subject: subject.manifest,
    artifactType: 'application/vnd.example.sig',
  }).manifest;
  const index = (manifests: Descriptor[]) => ({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests });
  return startFaultServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/v2/bench/app/manifests/v1') {
      const headers = {
        'content-type': MediaType.OciManifest,
        'docker-content-digest': subject.manifest.digest,
        'content-length': String(subject.manifest.size),
      };
      if (req.method === 'HEAD') return void res.writeHead(200, headers).end();
      return void res.writeHead(200, headers).end(Buffer.from(subject.manifestBytes));
    }
    if (path === `/v2/bench/app/referrers/${subject.manifest.digest}`)
      return sendJson(res, 200, index([referrer]));
    if (path.startsWith('/v2/bench/app/referrers/')) return sendJson(res, 200, index([]));
    sendJson(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** 100 resolve + discover at once on one shared client (one connection pool, per-host limit 16). */
async function concurrent(host: string, repository: string, cosignTags: boolean, n = 100): Promise<string> {
  const events: RegistryRequestEvent[] = [];
  const client = new RemoteRegistry({ insecureHosts: [host], onRequest: (e) => events.push(e) });
  try {
    const repo = client.repository(parseReference(`${host}/${repository}`));
    await discoverArtifacts(repo, await repo.resolve('v1'), { cosignTags }); // warm the pool and the API memo
    events.length = 0;
    const latencies: number[] = [];
    const start = performance.now();
    await Promise.all(
      Array.from({ length: n }, async () => {
        const t = performance.now();
        const found = await discoverArtifacts(repo, await repo.resolve('v1'), { cosignTags });
        if (found.length !== 1) throw new Error(`expected 1 referrer, found ${found.length}`);
        latencies.push(performance.now() - t);
      }),
    );
    const wall = performance.now() - start;
    latencies.sort((a, b) => a - b);
    const f = (x: number) => `${x.toFixed(1)} ms`;
    return (
      `  cosignTags ${String(cosignTags).padEnd(5)}: wall ${f(wall)} for ${n} (${((n / wall) * 1000).toFixed(0)}/s), ` +
      `p50 ${f(percentile(latencies, 50))}, p95 ${f(percentile(latencies, 95))}, max ${f(latencies.at(-1) ?? 0)}, ` +
      `${events.length} requests`
    );
  } finally {
    await client.close();
  }
}

async function main(): Promise<void> {
  const registry = await startRegistry();
  const fault = await referrersApiServer();
  try {
    const setup = new RemoteRegistry({ insecureHosts: [registry.host] });
    const repo = setup.repository(parseReference(`${registry.host}/bench/app`));
    const subject = await pushTestImage(repo, 'v1', 'bench-subject');
    await attachArtifact(repo, {
      subject,
      artifactType: 'application/vnd.example.sig',
      layers: [{ bytes: new TextEncoder().encode('{}'), mediaType: 'application/json' }],
    });
    await setup.close();

    const out: string[] = [];
    out.push(
      `resolve + discover of a tagged image with one referrer — distribution 2.8 at ${registry.host} (tag-schema fallback):`,
    );
    for (const s of SCENARIOS) out.push(await count(registry.host, 'bench/app', s));
    out.push(`resolve + discover — fault server with the Referrers API at ${fault.host}:`);
    for (const s of SCENARIOS) out.push(await count(fault.host, 'bench/app', s));
    out.push('100 concurrent resolve + discover (depth 3), distribution 2.8 on loopback, one client:');
    out.push(await concurrent(registry.host, 'bench/app', false));
    out.push(await concurrent(registry.host, 'bench/app', true));
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await fault.stop();
    await registry.stop();
  }
}

await main();
