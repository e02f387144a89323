/**
 * Server memory (issue 6 target d): RSS of `bin/vouch serve` (HTTPS + mTLS, notation trust, the
 * real registry on loopback) while it decides MEMORY_IMAGES distinct images in 100-key validate
 * requests, then over a soak that keeps asking for all of them (tag resolutions and denials expire
 * after 30 s, so the soak mixes cache hits with fresh decisions and registry traffic).
 *
 * Images: `SIGNED` of them carry one notation signature each (their decisions hold a full report),
 * the rest are unsigned (a denial with no report). Every image has its own digest; manifests share
 * blobs within a repository, so pushing 10,000 costs one manifest PUT each.
 *
 * Run: npm run -s build && node --import tsx bench/server-memory.ts
 * Env: MEMORY_IMAGES (10000), MEMORY_SIGNED (1000), MEMORY_SOAK_SECONDS (180), MEMORY_REPOS (50),
 * VOUCH_BIN (bin/vouch; e.g. a wrapper that prints a heap breakdown on SIGUSR2, which MEMORY_SIGNAL=1 sends
 * after the first pass and after the soak), MEMORY_SERVER_LOG (a file for the server's stderr).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseReference } from '../src/reference/parse.js';
import { createRegistryClient } from '../src/registry/client.js';
import { MediaType } from '../src/registry/types.js';
import { signNotation } from '../src/sign/notation/index.js';
import { generateTestCertificate } from '../src/sign/notation/testcert.js';
import { buildTestImage } from '../test/helpers/images.js';
import { writeNotationDir } from '../test/helpers/notation-dir.js';
import { freePort } from '../test/helpers/redis.js';
import { startRegistry } from '../test/helpers/registry.js';
import { createClient, createPki } from '../test/server/harness.js';

const IMAGES = Number(process.env.MEMORY_IMAGES ?? 10_000);
const SIGNED = Math.min(IMAGES, Number(process.env.MEMORY_SIGNED ?? 1000));
const SOAK_SECONDS = Number(process.env.MEMORY_SOAK_SECONDS ?? 180);
const REPOS = Number(process.env.MEMORY_REPOS ?? 50);

const rssMiB = async (pid: number): Promise<number> =>
  Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** RSS split into anonymous memory (heap, malloc) and file-backed pages (the node binary's code), from smaps_rollup. */
const rssParts = async (pid: number): Promise<string> => {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  const anon = kb('Anonymous');
  return `anonymous ${(anon / 1024).toFixed(0)} + file-backed ${((kb('Rss') - anon) / 1024).toFixed(0)}`;
};

/** Runs `task` over `items` with `n` at a time. */
async function pool<T>(items: readonly T[], n: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

async function main(): Promise<void> {
  const registry = await startRegistry();
  const pki = await createPki();
  const server = await pki.leaf('memory-server');
  const clientCert = await pki.leaf('memory-client');
  const signer = await generateTestCertificate({ name: 'memory.test', keyAlgorithm: 'ec-p256' });
  const nd = path.join(pki.dir, 'notation');
  await writeNotationDir(nd, signer.certPem);
  const client = createRegistryClient({ insecureHosts: [registry.host], perHostConcurrency: 16 });
  let child: ChildProcess | undefined;
  try {
    process.stderr.write(`pushing ${IMAGES} images (${SIGNED} signed) into ${REPOS} repositories…\n`);
    const keys: string[] = [];
    // repositories in parallel, each one's pushes in order: concurrent pushes of notation's shared
    // empty config blob into one repository race in distribution (MANIFEST_BLOB_UNKNOWN)
    await pool(
      Array.from({ length: REPOS }, (_, r) => r),
      8,
      async (r) => {
        const repository = client.repository(parseReference(`${registry.host}/mem/r${r}`));
        const base = buildTestImage(`mem-${r}`);
        for (const blob of base.blobs) await repository.pushBlob(blob.bytes, blob.descriptor.mediaType);
        const manifest = JSON.parse(Buffer.from(base.manifestBytes).toString('utf8')) as Record<
          string,
          unknown
        >;
        for (let i = r; i < IMAGES; i += REPOS) {
          const bytes = Buffer.from(
            JSON.stringify({ ...manifest, annotations: { 'bench.image': String(i) } }),
          );
          const subject = (await repository.pushManifest(bytes, MediaType.OciManifest)).descriptor;
          if (i < SIGNED)
            await signNotation({
              repository,
              subject,
              keyPem: signer.keyPem,
              certChainPem: signer.certPem,
              envelope: 'jws',
            });
          keys[i] = `${registry.host}/mem/r${r}@${subject.digest}`;
        }
      },
    );

    const port = await freePort();
    const log = process.env.MEMORY_SERVER_LOG;
    child = spawn(
      process.env.VOUCH_BIN ?? 'bin/vouch',
      [
        'serve',
        '--notation-dir',
        nd,
        '--insecure-registry',
        registry.host,
        '--listen',
        `127.0.0.1:${port}`,
        '--tls-cert',
        server.cert,
        '--tls-key',
        server.key,
        '--client-ca',
        path.join(pki.dir, 'ca.crt'),
      ],
      { stdio: ['ignore', 'ignore', log ? (await import('node:fs')).openSync(log, 'w') : 'ignore'] },
    );
    const breakdown = async () => {
      if (!process.env.MEMORY_SIGNAL) return;
      process.kill(pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 1000));
    };
    const pid = child.pid ?? 0;
    const url = `https://127.0.0.1:${port}`;
    const https = await createClient(path.join(pki.dir, 'ca.crt'), clientCert, 4);
    for (let i = 0; i < 100; i++) {
      try {
        if ((await https.get(`${url}/health`)).status === 200) break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const ask = async (batch: string[]) => {
      const res = await https.post(`${url}/gatekeeper/v1/verify`, {
        apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
        kind: 'ProviderRequest',
        request: { keys: batch },
      });
      return (res.json as { response: { items: Array<{ value?: { isSuccess: boolean }; error?: string }> } })
        .response.items;
    };
    const idle = await rssMiB(pid);
    const samples: string[] = [`idle ${idle.toFixed(0)} MiB (${await rssParts(pid)})`];
    let allowed = 0;
    let errors = 0;
    const started = performance.now();
    for (let i = 0; i < keys.length; i += 100) {
      // two requests at a time, as Gatekeeper's replicas would
      const items = (
        await Promise.all([ask(keys.slice(i, i + 50)), ask(keys.slice(i + 50, i + 100))])
      ).flat();
      allowed += items.filter((x) => x.value?.isSuccess === true).length;
      errors += items.filter((x) => x.error !== undefined).length;
      if ((i + 100) % 1000 === 0) samples.push(`${i + 100}: ${(await rssMiB(pid)).toFixed(0)}`);
    }
    const firstPass = (performance.now() - started) / 1000;
    const after = await rssMiB(pid);
    await breakdown();
    process.stdout.write(
      `(d) ${IMAGES} distinct images (${SIGNED} signed) in ${firstPass.toFixed(1)} s: allowed ${allowed}, errors ${errors}; RSS MiB ${samples.join(', ')}; after ${after.toFixed(0)} MiB (${await rssParts(pid)})\n`,
    );

    const soak: number[] = [];
    const soakStart = performance.now();
    let asked = 0;
    while ((performance.now() - soakStart) / 1000 < SOAK_SECONDS) {
      for (let i = 0; i < keys.length && (performance.now() - soakStart) / 1000 < SOAK_SECONDS; i += 100) {
        await Promise.all([ask(keys.slice(i, i + 50)), ask(keys.slice(i + 50, i + 100))]);
        asked += 100;
        const t = Math.floor((performance.now() - soakStart) / 10_000);
        if (soak.length <= t) soak.push(await rssMiB(pid));
      }
    }
    soak.push(await rssMiB(pid));
    await breakdown();
    if (SOAK_SECONDS > 0) {
      process.stdout.write(
        `(d) soak ${SOAK_SECONDS} s, ${asked} images asked: RSS every 10 s ${soak.map((x) => x.toFixed(0)).join(' ')} MiB (min ${Math.min(...soak).toFixed(0)}, max ${Math.max(...soak).toFixed(0)})\n`,
      );
    }
    await https.close();
  } finally {
    child?.kill('SIGTERM');
    await client.close();
    await registry.stop();
  }
}

await main();
