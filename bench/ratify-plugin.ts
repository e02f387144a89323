/**
 * Cold start of one Ratify verifier plugin call: the executable `vouch ratify install-plugin`
 * writes, started as Ratify v1.4.0's executor starts it (a new process, RATIFY_VERIFIER_* in the
 * environment, {config, storeConfig, referenceDesc} on stdin, stdout read to the end), against
 * the local registry. Wall time per call, best / median / p90 of N, for:
 *   - a refused call (unsupported RATIFY_VERIFIER_VERSION): process start + module load only;
 *   - a notation signature (JWS, EC P-256, trust policy from vouch.yaml);
 *   - the same without Node's compile cache (NODE_DISABLE_COMPILE_CACHE=1), to show what it saves;
 *   - a cosign signature (key-based, the .sig tag manifest).
 * Wall time depends on what else the machine runs; the CPU column (GNU time) much less.
 * Target (issue #12): one call ≤ 300 ms on the 2-core machine.
 *
 *   source scripts/env.sh && npm run -s build && node --import tsx bench/ratify-plugin.ts [runs]
 *   BENCH_VOUCH='node dist/vouch.mjs' …  the plugin runs that command instead of bin/vouch
 *   BENCH_CPU_PROF_DIR=/tmp/prof …   also writes a V8 CPU profile of one notation call there
 */
import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseReference } from '../src/reference/parse.js';
import { createRegistryClient } from '../src/registry/client.js';
import type { Descriptor } from '../src/registry/types.js';
import { signCosign } from '../src/sign/cosign/index.js';
import { signNotation } from '../src/sign/notation/index.js';
import { generateTestCertificate } from '../src/sign/notation/testcert.js';
import { pushTestImage } from '../test/helpers/images.js';
import { startRegistry } from '../test/helpers/registry.js';

const runs = Number(process.argv[2] ?? 15);
const ROOT = path.resolve(import.meta.dirname, '..');

interface Call {
  readonly ms: number;
  /** user + system CPU of the plugin process (GNU time), when /usr/bin/time exists */
  readonly cpuMs: number | undefined;
  readonly code: number;
  readonly stdout: string;
}

const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
let calls = 0;

function call(plugin: string, env: Record<string, string>, stdin: string): Promise<Call> {
  const t0 = performance.now();
  const timeFile = path.join(dir, `time-${calls++}`);
  return new Promise((resolve, reject) => {
    // GNU time adds one fork+exec (about 1 ms) to the wall time; it reports the CPU the plugin used
    const child = gnuTime
      ? spawn(gnuTime, ['-q', '-o', timeFile, '-f', '%U %S', plugin], {
          env,
          stdio: ['pipe', 'pipe', 'ignore'],
        })
      : spawn(plugin, [], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      let cpuMs: number | undefined;
      if (gnuTime) {
        const [user, sys] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number);
        cpuMs = ((user ?? 0) + (sys ?? 0)) * 1000;
      }
      resolve({ ms, cpuMs, code: code ?? -1, stdout });
    });
    child.stdin.end(stdin);
  });
}

function summary(times: number[]): string {
  const s = [...times].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(0);
  return `best ${s[0]!.toFixed(0)}, median ${at(0.5)}, p90 ${at(0.9)} ms`;
}

const dir = await mkdtemp(path.join(tmpdir(), 'vouch-bench-ratify-'));
const registry = await startRegistry();
try {
  const ref = `${registry.host}/bench/app`;
  const client = createRegistryClient({ insecureHosts: [registry.host] });
  const repository = client.repository(parseReference(`${ref}:v1`));
  const subject = await pushTestImage(repository, 'v1', 'bench-ratify');
  const cert = await generateTestCertificate({ name: 'bench.test', keyAlgorithm: 'ec-p256' });
  const notation = await signNotation({
    repository,
    subject,
    keyPem: cert.keyPem,
    certChainPem: cert.certPem,
    envelope: 'jws',
  });
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const cosignDesc: Descriptor = {
    ...(await signCosign({
      repository,
      subject,
      subjectReference: ref,
      privateKeyPem: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      mode: 'tag',
    })),
    artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
  };
  await client.close();

  await writeFile(path.join(dir, 'ca.crt'), cert.certPem);
  await writeFile(path.join(dir, 'cosign.pub'), key.publicKey.export({ format: 'pem', type: 'spki' }));
  await writeFile(
    path.join(dir, 'vouch.yaml'),
    JSON.stringify({
      registries: { dockerConfig: false },
      verifiers: {
        notation: {
          trustPolicy: {
            version: '1.0',
            trustPolicies: [
              {
                name: 'all',
                registryScopes: ['*'],
                signatureVerification: { level: 'strict' },
                trustStores: ['ca:bench'],
                trustedIdentities: ['*'],
              },
            ],
          },
          trustStores: { ca: { bench: ['ca.crt'] } },
        },
        cosign: { keys: ['cosign.pub'] },
      },
    }),
  );
  const installed = await promisify(execFile)(path.join(ROOT, 'bin', 'vouch'), [
    'ratify',
    'install-plugin',
    '--dir',
    path.join(dir, 'plugins'),
    '--name',
    'vouch',
    ...(process.env.BENCH_VOUCH ? ['--vouch', process.env.BENCH_VOUCH] : []),
  ]);
  const plugin = installed.stdout.trim();
  const env = (version = '1.0.0') => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    RATIFY_VERIFIER_COMMAND: 'VERIFY',
    RATIFY_VERIFIER_SUBJECT: `${ref}@${subject.digest}`,
    RATIFY_VERIFIER_VERSION: version,
  });
  const stdin = (verifier: string, d: Descriptor) =>
    JSON.stringify({
      config: { name: 'vouch-verifier', type: 'vouch', verifier, vouchConfig: path.join(dir, 'vouch.yaml') },
      storeConfig: { version: '1.0.0', pluginBinDirs: null, store: { name: 'oras', useHttp: true } },
      referenceDesc: { mediaType: d.mediaType, digest: d.digest, size: d.size, artifactType: d.artifactType },
    });

  const cases: [string, () => Promise<Call>, (c: Call) => boolean][] = [
    [
      'refused (unsupported version)',
      () => call(plugin, env('9.9.9'), stdin('notation', notation)),
      (c) => c.code !== 0,
    ],
    [
      'notation signature',
      () => call(plugin, env(), stdin('notation', notation)),
      (c) => c.code === 0 && JSON.parse(c.stdout).isSuccess === true,
    ],
    [
      'notation, no compile cache',
      () => call(plugin, { ...env(), NODE_DISABLE_COMPILE_CACHE: '1' }, stdin('notation', notation)),
      (c) => c.code === 0 && JSON.parse(c.stdout).isSuccess === true,
    ],
    [
      'cosign signature',
      () => call(plugin, env(), stdin('cosign', cosignDesc)),
      (c) => c.code === 0 && JSON.parse(c.stdout).isSuccess === true,
    ],
  ];
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  if (profileDir) {
    // one notation call with V8's CPU profiler on, to see where a cold start goes
    await call(
      plugin,
      { ...env(), NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` },
      stdin('notation', notation),
    );
    console.log(`CPU profile of one notation call written to ${profileDir}`);
  }
  console.log(`Ratify plugin calls (new process each, ${runs} runs after 1 warm-up of the page cache):`);
  for (const [name, run, ok] of cases) {
    const first = await run();
    if (!ok(first)) throw new Error(`${name}: unexpected result (exit ${first.code}): ${first.stdout}`);
    const times: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const c = await run();
      if (!ok(c)) throw new Error(`${name}: unexpected result (exit ${c.code}): ${c.stdout}`);
      times.push(c.ms);
      if (c.cpuMs !== undefined) cpu.push(c.cpuMs);
    }
    console.log(`  ${name.padEnd(30)} wall ${summary(times)}${cpu.length ? `; CPU ${summary(cpu)}` : ''}`);
  }
} finally {
  await registry.stop();
  await rm(dir, { recursive: true, force: true });
}
