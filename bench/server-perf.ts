/**
 * Server benchmarks (issue 6 "Performance targets"), against `bin/vouch serve` in its own process
 * (HTTPS + mTLS), the real registry behind a loopback delay proxy:
 *  (a) cold batch: one validate request of N images × S cosign signatures at RTT ms, against the
 *      floor measured in the same run: max(5 × RTT, the same registry requests sent all at once by a
 *      plain client through the proxy) + 0.1 ms crypto per signature;
 *  (b) registry requests per cold verification (counted by the proxy);
 *  (c) warm throughput with autocannon (keep-alive, mTLS): 100-key and 1-key requests;
 *  (d) server RSS after RSS_IMAGES distinct images have been decided.
 * It also reports the server process's own CPU time over the cold request (user + system, from
 * /proc/<pid>/stat) per signature verified.
 * Run: npm run -s build && node --import tsx bench/server-perf.ts
 * Env: BENCH_IMAGES (100), BENCH_SIGS (5), BENCH_RTT_MS (20), BENCH_RSS_IMAGES (2000), BENCH_SECONDS (5),
 *      BENCH_FORMAT (cosign | notation: JWS, EC P-256, as the acceptance check's cold batch),
 *      BENCH_CPU_PROF_DIR (the server runs with --cpu-prof and writes its profile there on exit),
 *      BENCH_COLD_ONLY=1 (stop after the cold batch), with BENCH_COLD_REPEAT=K (K cold rounds, each
 *      with a new server, and their medians: one round's CPU varies by ±15 % on this machine).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { parseReference } from '../src/reference/parse.js';
import { createRegistryClient } from '../src/registry/client.js';
import { signNotation } from '../src/sign/notation/index.js';
import { generateTestCertificate } from '../src/sign/notation/testcert.js';
import { pushTestImage } from '../test/helpers/images.js';
import { writeNotationDir } from '../test/helpers/notation-dir.js';
import { freePort } from '../test/helpers/redis.js';
import { startRegistry } from '../test/helpers/registry.js';
import { startDelayProxy } from '../test/server/delay-proxy.js';
import { createClient, createPki, createSignedImages } from '../test/server/harness.js';

const N = Number(process.env.BENCH_IMAGES ?? 100);
const S = Number(process.env.BENCH_SIGS ?? 5);
const RTT = Number(process.env.BENCH_RTT_MS ?? 20);
const RSS_IMAGES = Number(process.env.BENCH_RSS_IMAGES ?? 2000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const FORMAT = process.env.BENCH_FORMAT === 'notation' ? 'notation' : 'cosign';
const PROF_DIR = process.env.BENCH_CPU_PROF_DIR;
const COLD_ONLY = process.env.BENCH_COLD_ONLY === '1';
const REPEAT = COLD_ONLY ? Math.max(1, Number(process.env.BENCH_COLD_REPEAT ?? 1)) : 1;
const ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

const body = (keys: string[]) =>
  JSON.stringify({
    apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
    kind: 'ProviderRequest',
    request: { keys },
  });

/** user and system CPU of a process so far, in ms (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
async function cpuMs(pid: number): Promise<{ user: number; system: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

/** Pushes `perf/app<i>:v1` × N, each with S notation signatures (JWS, EC P-256); returns the trust flags. */
async function pushNotationImages(registryHost: string): Promise<string[]> {
  const cert = await generateTestCertificate({ name: 'perf.test', keyAlgorithm: 'ec-p256' });
  const client = createRegistryClient({ insecureHosts: [registryHost] });
  try {
    for (let i = 0; i < N; i++) {
      const repository = client.repository(parseReference(`${registryHost}/perf/app${i}:v1`));
      const subject = await pushTestImage(repository, 'v1', `perf image ${i}`);
      for (let s = 0; s < S; s++)
        await signNotation({
          repository,
          subject,
          keyPem: cert.keyPem,
          certChainPem: cert.certPem,
          envelope: 'jws',
        });
    }
  } finally {
    await client.close();
  }
  const dir = await writeNotationDir(await mkdtemp(path.join(tmpdir(), 'vouch-bench-perf-')), cert.certPem);
  return ['--notation-dir', dir];
}

function rssMiB(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then(
    (s) => Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024,
  );
}

/** Stops the server and waits for it to exit (a --cpu-prof profile is written as it exits). */
async function stopServer(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function main(): Promise<void> {
  const registry = await startRegistry();
  const images = await createSignedImages(registry.host);
  const proxy = await startDelayProxy(Number(registry.host.split(':')[1]), RTT, { record: true });
  const pki = await createPki();
  const server = await pki.leaf('bench-server');
  const client = await pki.leaf('bench-client');
  const caFile = path.join(pki.dir, 'ca.crt');
  let child: ChildProcess | undefined;
  try {
    process.stderr.write(`pushing ${N} images × ${S} ${FORMAT} signatures…\n`);
    let trust = ['--key', images.publicKeyFile];
    if (FORMAT === 'notation') trust = await pushNotationImages(registry.host);
    else for (let i = 0; i < N; i++) await images.push(`perf/app${i}`, 'v1', S);
    const coldCpus: number[] = [];
    const coldRatios: number[] = [];
    for (let round = 1; ; round++) {
      const port = await freePort();
      const nodeOptions = PROF_DIR ? `--cpu-prof --cpu-prof-dir=${PROF_DIR}` : '';
      child = spawn(
        'bin/vouch',
        [
          'serve',
          ...trust,
          '--insecure-registry',
          proxy.host,
          '--listen',
          `127.0.0.1:${port}`,
          '--tls-cert',
          server.cert,
          '--tls-key',
          server.key,
          '--client-ca',
          caFile,
        ],
        {
          stdio: ['ignore', 'ignore', 'inherit'],
          env: {
            ...process.env,
            LOG_LEVEL: 'warn',
            NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${nodeOptions}`,
          },
        },
      );
      const url = `https://127.0.0.1:${port}`;
      const https = await createClient(caFile, client, 16);
      for (let i = 0; i < 100; i++) {
        try {
          if ((await https.get(`${url}/health`)).status === 200) break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const keys = Array.from({ length: N }, (_, i) => `${proxy.host}/perf/app${i}:v1`);

      // (a) + (b) cold batch
      const before = proxy.requests();
      const linesBefore = proxy.lines().length;
      const cpuBefore = await cpuMs(child.pid ?? 0);
      const t0 = performance.now();
      const cold = await https.post(`${url}/gatekeeper/v1/verify`, JSON.parse(body(keys)));
      const coldMs = performance.now() - t0;
      const cpuAfter = await cpuMs(child.pid ?? 0);
      const coldUserMs = cpuAfter.user - cpuBefore.user;
      const coldSystemMs = cpuAfter.system - cpuBefore.system;
      const coldCpuMs = coldUserMs + coldSystemMs;
      const items = (
        cold.json as { response: { items: Array<{ value?: { isSuccess: boolean }; error?: string }> } }
      ).response.items;
      const ok = items.filter((i) => i.value?.isSuccess === true).length;
      const registryRequests = proxy.requests() - before;
      const lines = proxy.lines().slice(linesBefore);

      // floor: the same requests, all at once, by a plain client through the proxy (best of two)
      const pool = new Pool(`http://${proxy.host}`, { connections: 100, pipelining: 1 });
      const replay = async () => {
        const s = performance.now();
        await Promise.all(
          lines.map(async (line) => {
            const [method, p] = line.split(' ') as [string, string];
            const res = await pool.request({
              method: method as 'GET' | 'HEAD',
              path: p,
              headers: { accept: ACCEPT },
            });
            await res.body.dump();
          }),
        );
        return performance.now() - s;
      };
      const served = Math.min(await replay(), await replay());
      await pool.close();
      const floor = Math.max(5 * RTT, served) + 0.1 * N * S;
      const coldLines = [
        `(a) cold ${N}x${S} ${FORMAT} @${RTT}ms RTT: ${coldMs.toFixed(0)} ms; floor ${floor.toFixed(0)} ms = max(5 RTT ${5 * RTT}, registry+proxy alone ${served.toFixed(0)}) + crypto ${(0.1 * N * S).toFixed(0)}; ratio ${(coldMs / floor).toFixed(2)}; verified ${ok}/${N}`,
        `(a) server CPU over the cold request: ${coldCpuMs} ms (user ${coldUserMs}, system ${coldSystemMs}) = ${(coldCpuMs / (N * S)).toFixed(2)} ms per signature`,
        `(b) registry requests per cold image: ${(registryRequests / N).toFixed(2)} (${registryRequests} total)`,
      ];
      if (COLD_ONLY) {
        await https.close();
        process.stdout.write(`${coldLines.join('\n')}\n`);
        coldCpus.push(coldCpuMs);
        coldRatios.push(coldMs / floor);
        if (round < REPEAT) {
          await stopServer(child); // the next round starts a new server: a cold cache again
          continue;
        }
        if (REPEAT > 1) {
          const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
          process.stdout.write(
            `(a) median of ${REPEAT} cold rounds: server CPU ${median(coldCpus)} ms = ${(median(coldCpus) / (N * S)).toFixed(2)} ms per signature; ratio ${median(coldRatios).toFixed(2)}\n`,
          );
        }
        return;
      }

      // (c) warm throughput
      const [ca, cert, key] = await Promise.all([
        readFile(caFile),
        readFile(client.cert),
        readFile(client.key),
      ]);
      const run = async (keysPerRequest: number, route = '/gatekeeper/v1/verify') => {
        const r = await autocannon({
          url: `${url}${route}`,
          method: route === '/health' ? 'GET' : 'POST',
          headers: { 'content-type': 'application/json' },
          body: body(keys.slice(0, keysPerRequest)),
          connections: 16,
          duration: SECONDS,
          tlsOptions: { ca, cert, key },
        });
        return { rps: r.requests.average, non2xx: r.non2xx, errors: r.errors, p99: r.latency.p99 };
      };
      const warmBefore = proxy.requests();
      const warm100 = await run(Math.min(100, N));
      const warm1 = await run(1);
      const health = await run(0, '/health');
      const warmRegistryRequests = proxy.requests() - warmBefore;
      const metricsText = (await https.get(`${url}/metrics`)).text;
      const metricLine = (name: string) =>
        metricsText.split('\n').find((l) => l.startsWith(name)) ?? `${name} ?`;
      if (process.env.BENCH_DEBUG) process.stderr.write(`${lines.join('\n')}\n`);

      // (d) RSS after RSS_IMAGES distinct images (unsigned: decided by discovery and policy)
      proxy.setRttMs(0);
      process.stderr.write(`pushing ${RSS_IMAGES} more images for the memory run…\n`);
      const extra: string[] = [];
      for (let i = 0; i < RSS_IMAGES; i++) {
        const d = await images.push(`rss/img${i % 50}`, `t${i}`, false);
        extra.push(`${proxy.host}/rss/img${i % 50}@${d.digest}`);
      }
      const rssBefore = await rssMiB(child.pid ?? 0);
      for (let i = 0; i < extra.length; i += 100)
        await https.post(`${url}/gatekeeper/v1/verify`, JSON.parse(body(extra.slice(i, i + 100))));
      const rssAfter = await rssMiB(child.pid ?? 0);
      await https.close();

      const lines_ = [
        ...coldLines,
        `(c) warm 100-key: ${warm100.rps.toFixed(0)} req/s = ${(warm100.rps * Math.min(100, N)).toFixed(0)} images/s (p99 ${warm100.p99} ms, non2xx ${warm100.non2xx}, errors ${warm100.errors})`,
        `(c) registry requests during the warm runs: ${warmRegistryRequests}; ${metricLine('atcr_provider_cache_hits_total')}; ${metricLine('atcr_provider_cache_misses_total')}`,
        `(c) baseline GET /health: ${health.rps.toFixed(0)} req/s (p99 ${health.p99} ms)`,
        `(c) warm 1-key: ${warm1.rps.toFixed(0)} req/s (p99 ${warm1.p99} ms, non2xx ${warm1.non2xx}, errors ${warm1.errors})`,
        `(d) server RSS ${rssBefore.toFixed(0)} MiB before, ${rssAfter.toFixed(0)} MiB after ${RSS_IMAGES} more distinct images (${N + RSS_IMAGES} in total)`,
      ];
      process.stdout.write(`${lines_.join('\n')}\n`);
      break;
    }
  } finally {
    await stopServer(child);
    await proxy.stop();
    await images.close();
    await registry.stop();
  }
}

await main();
