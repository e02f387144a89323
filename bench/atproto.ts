/**
 * ATProto benchmarks: `node --import tsx bench/atproto.ts [--images N]`.
 * 1. K-256 signature checks per second through vouch (`verifySignature`: compact parse, low-S
 *    rule, cached KeyObject) versus raw `crypto.verify` with the same key.
 * 2. getRecord proof verification (CAR + commit + MST) per second on a generated repository.
 * 3. When test/services/atproto is installed: N ATCR-signed images (default 100) verified cold
 *    and warm against a real PLC + PDS + registry on loopback, with requests per verification.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { createMemoryCache } from '../src/cache/memory.js';
import { didKeyFromPrivateKey, parseDidKey, verifySignature } from '../src/verifiers/atproto/repo/keys.js';
import { verifyRecordProof } from '../src/verifiers/atproto/repo/proof.js';
import { atprotoServicesInstalled, startAtprotoNet } from '../test/helpers/atproto-net.js';
import { startRegistry } from '../test/helpers/registry.js';
import {
  countingFetch,
  pushImage,
  sign,
  startE2E,
  trustPolicy,
  verifyImage,
} from '../test/verifiers/atproto/support/e2e-env.js';
import { buildRepo, repoCar, signCompact } from '../test/verifiers/atproto/support/repo-build.js';

function rate(label: string, n: number, fn: () => void): number {
  for (let i = 0; i < Math.min(200, n); i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const perSec = n / s;
  console.log(`${label.padEnd(46)} ${perSec.toFixed(0).padStart(8)} /s`);
  return perSec;
}

const sk = Buffer.alloc(32, 5);
const key = parseDidKey(didKeyFromPrivateKey('k256', sk));
const msg = Buffer.alloc(180, 1);
const sig = signCompact('k256', sk, msg);
const { x, y } = secp256k1.Point.fromBytes(key.compressed).toAffine();
const b64 = (n: bigint) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex').toString('base64url');
const raw = createPublicKey({ key: { kty: 'EC', crv: 'secp256k1', x: b64(x), y: b64(y) }, format: 'jwk' });
const N = Number(process.env.BENCH_N ?? 20000);
const ours = rate('K-256 verifySignature (vouch)', N, () => {
  if (verifySignature(key, msg, sig) !== 'ok') throw new Error('bad');
});
const base = rate('K-256 crypto.verify (raw, same key)', N, () => {
  if (!cryptoVerify('sha256', msg, { key: raw, dsaEncoding: 'ieee-p1363' }, sig)) throw new Error('bad');
});
console.log(`vouch / raw: ${(ours / base).toFixed(2)}`);

const did = 'did:web:bench.example.com';
const records = Object.fromEntries(
  Array.from({ length: 200 }, (_, i) => [
    `io.atcr.manifest/3lbx7kizy${String(i).padStart(4, '0')}`,
    { $type: 'io.atcr.manifest', i },
  ]),
);
const repo = buildRepo({ did, curve: 'k256', key: sk, records });
const car = repoCar(repo);
rate(`proof verification (CAR ${car.length} B, 200 records)`, 2000, () => {
  verifyRecordProof(
    car,
    { did, key, collection: 'io.atcr.manifest', rkey: '3lbx7kizy0042' },
    { maxBlockBytes: 1 << 20, maxBlocks: 1000 },
  );
});

const flag = process.argv.indexOf('--images');
const images = flag > 0 ? Number(process.argv[flag + 1]) : 100;
if (!atprotoServicesInstalled()) {
  console.log('end to end: skipped, test/services/atproto/install.sh has not run');
} else {
  const env = await startE2E(startRegistry, startAtprotoNet);
  try {
    console.log(`PLC + PDS start: ${env.net.startMs} ms`);
    const pushed = [];
    const t0 = Date.now();
    for (let i = 0; i < images; i++) {
      const img = await pushImage(env, `b${i}`);
      await sign(env, img, env.accounts.alice!);
      pushed.push(img);
    }
    console.log(`push + sign ${images} images: ${Date.now() - t0} ms`);
    const cfg = { trustPolicy: trustPolicy({ [env.accounts.alice!.did]: {} }) };
    const cache = createMemoryCache();
    for (const label of ['cold', 'warm']) {
      const counts: Record<string, number> = {};
      const fetch = countingFetch(env, counts);
      const t = Date.now();
      const reports = await Promise.all(pushed.map((img) => verifyImage(env, img, cfg, { cache, fetch })));
      const ms = Date.now() - t;
      const okCount = reports.flat().filter((r) => r.outcome === 'verified').length;
      console.log(
        `${label}: ${images} images in ${ms} ms (${(ms / images).toFixed(1)} ms/image), verified ${okCount}; per verification: PLC ${((counts.plc ?? 0) / images).toFixed(2)}, PDS ${((counts.pds ?? 0) / images).toFixed(2)}, registry 2 (artifact manifest + blob) + 1 referrers listing`,
      );
    }
  } finally {
    await env.client.close();
    await Promise.allSettled([env.net.stop(), env.registry.stop()]);
  }
}
