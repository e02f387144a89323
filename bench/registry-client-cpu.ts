/**
 * CPU cost of one registry request in vouch's client, against the raw HTTP client under it
 * (issue #15: vouch's own CPU per cold signature). Real registry on loopback, no proxy: N manifest
 * GETs and N blob GETs at a concurrency of C, timed with process.cpuUsage (this process only; the
 * registry is another process). Prints µs of CPU per request for:
 *   vouch   RemoteRepository.fetchManifest / fetchBlob (limiter, deadline, digest check, size limit)
 *   undici  undici.request + body.arrayBuffer() on a keep-alive Agent (the floor under vouch)
 * Run: node --import tsx bench/registry-client-cpu.ts [N=2000] [C=64]
 */
import { Agent, type Dispatcher, request } from 'undici';
import { parseReference } from '../src/reference/parse.js';
import { createRegistryClient } from '../src/registry/client.js';
import { pushTestImage } from '../test/helpers/images.js';
import { startRegistry } from '../test/helpers/registry.js';

const N = Number(process.argv[2] ?? 2000);
const C = Number(process.argv[3] ?? 64);

async function pool(n: number, c: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

async function measure(label: string, task: (i: number) => Promise<unknown>): Promise<number> {
  await pool(200, C, task); // warm: connections, JIT
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await pool(N, C, task);
  const wall = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  const perReq = (used.user + used.system) / N;
  process.stdout.write(
    `${label.padEnd(28)} ${perReq.toFixed(0).padStart(5)} µs CPU/request (user ${(used.user / N).toFixed(0)}, system ${(used.system / N).toFixed(0)}), ${(N / (wall / 1000)).toFixed(0)} req/s\n`,
  );
  return perReq;
}

/** The floor under undici.request: the dispatcher API with a handler that only collects bytes. */
function dispatchGet(
  agent: Agent,
  host: string,
  path: string,
  headers: Record<string, string>,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // undici wants every stage handled, even those with nothing to do
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {},
      onResponseStart() {},
      onResponseData(_c, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        resolve(Buffer.concat(chunks));
      },
      onResponseError(_c, err) {
        reject(err);
      },
    };
    agent.dispatch({ origin: `http://${host}`, path, method: 'GET', headers }, handler);
  });
}

const registry = await startRegistry();
try {
  const client = createRegistryClient({ insecureHosts: [registry.host], allowPrivateNetwork: true });
  const repo = client.repository(parseReference(`${registry.host}/bench/cpu:v1`));
  const desc = await pushTestImage(repo, 'v1', 'cpu');
  const { manifest } = await repo.fetchManifest(desc);
  if (manifest.kind !== 'manifest' || !manifest.layers[0]) throw new Error('the test image has no layer');
  const layer = manifest.layers[0];
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: C });
  const base = `http://${registry.host}/v2/bench/cpu`;
  const accept = { accept: desc.mediaType };
  await measure('undici manifest GET', async () => {
    const res = await request(`${base}/manifests/${desc.digest}`, { dispatcher: agent, headers: accept });
    await res.body.arrayBuffer();
  });
  await measure('undici dispatch manifest', () =>
    dispatchGet(agent, registry.host, `/v2/bench/cpu/manifests/${desc.digest}`, accept),
  );
  await measure('vouch fetchManifest', () => repo.fetchManifest(desc));
  await measure('undici blob GET', async () => {
    const res = await request(`${base}/blobs/${layer.digest}`, { dispatcher: agent });
    await res.body.arrayBuffer();
  });
  await measure('vouch fetchBlob', () => repo.fetchBlob(layer, { maxBytes: 1 << 20 }));
  await agent.close();
  await client.close();
} finally {
  await registry.stop();
}
