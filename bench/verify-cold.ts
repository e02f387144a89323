/**
 * Cold `vouch verify` of one notation-signed image on the local registry:
 * 1. wall time of `bin/vouch verify` as a user runs it (a new process each time; best and median of N);
 * 2. registry requests of one decision on a fresh client (the engine through the library, counted
 *    with RemoteRegistry's onRequest hook), by what they were for.
 *
 *   source scripts/env.sh && npm run -s build && node --import tsx bench/verify-cold.ts [runs]
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { composeConfig } from '../src/config/compose.js';
import { buildRuntime } from '../src/config/runtime.js';
import { parseReference } from '../src/reference/parse.js';
import { createRegistryClient } from '../src/registry/client.js';
import type { RegistryRequestEvent } from '../src/registry/remote/options.js';
import { signNotation } from '../src/sign/notation/index.js';
import { generateTestCertificate } from '../src/sign/notation/testcert.js';
import { pushTestImage } from '../test/helpers/images.js';
import { writeNotationDir } from '../test/helpers/notation-dir.js';
import { startRegistry } from '../test/helpers/registry.js';

const runs = Number(process.argv[2] ?? 10);
const registry = await startRegistry();
const dir = await mkdtemp(path.join(tmpdir(), 'vouch-bench-verify-'));
try {
  const ref = `${registry.host}/bench/app:v1`;
  const client = createRegistryClient({ insecureHosts: [registry.host] });
  const repository = client.repository(parseReference(ref));
  const subject = await pushTestImage(repository, 'v1', 'bench-verify');
  const cert = await generateTestCertificate({ name: 'bench.test', keyAlgorithm: 'ec-p256' });
  await signNotation({
    repository,
    subject,
    keyPem: cert.keyPem,
    certChainPem: cert.certPem,
    envelope: 'jws',
  });
  await client.close();
  const nd = path.join(dir, 'notation');
  await writeNotationDir(nd, cert.certPem);

  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await promisify(execFile)('bin/vouch', [
      'verify',
      '--insecure-registry',
      registry.host,
      '--notation-dir',
      nd,
      ref,
    ]);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(
    `cold bin/vouch verify (new process each, ${runs} runs): best ${times[0]!.toFixed(0)} ms, median ${times[Math.floor(runs / 2)]!.toFixed(0)} ms`,
  );

  const events: RegistryRequestEvent[] = [];
  const loaded = await composeConfig({ flags: { notationDir: nd, insecureRegistry: [registry.host] } });
  const runtime = await buildRuntime(loaded.config, {
    baseDir: loaded.baseDir,
    onRegistryRequest: (e) => events.push(e),
  });
  const decision = await runtime.engine.decide(ref, { signal: AbortSignal.timeout(10_000) });
  await runtime.close();
  const kinds = events.map((e) =>
    e.method === 'HEAD' && e.path.endsWith('/manifests/v1')
      ? 'resolve'
      : e.path.includes('/referrers/')
        ? 'referrers-api probe'
        : /manifests\/sha256-/.test(e.path)
          ? 'referrers tag index'
          : e.path.includes('/manifests/')
            ? 'signature manifest'
            : e.path.includes('/blobs/')
              ? 'signature blob'
              : 'other',
  );
  const counts = Object.fromEntries([...new Set(kinds)].map((k) => [k, kinds.filter((x) => x === k).length]));
  console.log(
    `registry requests for one cold decision (allowed=${decision.allowed}): ${events.length}`,
    counts,
  );
} finally {
  await registry.stop();
  await rm(dir, { recursive: true, force: true });
}
