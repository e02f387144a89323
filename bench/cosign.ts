/**
 * Cosign benchmarks. Run: `source scripts/env.sh && node --import tsx bench/cosign.ts`
 * 1. Verification throughput in-process: legacy key-based simple-signing and key-signed DSSE
 *    bundles, each as a ratio to raw `crypto.verify` with the same key in the same run.
 * 2. Registry requests per cold verification (a fresh client, cache and engine per decision:
 *    resolve, discovery, artifact fetches) on a real registry on loopback, for `.sig` tags and for
 *    bundle referrers, key-signed and keyless (mock Fulcio/Rekor on loopback), counted through the
 *    RemoteRegistry `onRequest` hook and broken down by request.
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dsse } from '@sigstore/core';
import { createMemoryCache } from '../src/cache/memory.js';
import { Engine } from '../src/engine/engine.js';
import { compilePolicy } from '../src/policy/policy.js';
import { policySchema } from '../src/policy/types.js';
import { parseReference } from '../src/reference/parse.js';
import { createRegistryClient } from '../src/registry/client.js';
import type { RegistryRequestEvent } from '../src/registry/remote/options.js';
import {
  decryptCosignKey,
  generateCosignKeyPair,
  signCosign,
  simpleSigningPayload,
} from '../src/sign/cosign/index.js';
import { signCosignKeyless } from '../src/sign/cosign/keyless.js';
import type { CosignConfig } from '../src/trust/cosign/config.js';
import { loadCosignTrust } from '../src/trust/cosign/load.js';
import type { CosignPolicy, CosignTrustMaterial } from '../src/trust/cosign/types.js';
import { verifyBundle } from '../src/verifiers/cosign/bundle.js';
import { createCosignVerifier } from '../src/verifiers/cosign/index.js';
import { describeKey } from '../src/verifiers/cosign/public-key.js';
import { verifySimpleSigning } from '../src/verifiers/cosign/simplesigning.js';
import { pushTestImage } from '../test/helpers/images.js';
import { startRegistry } from '../test/helpers/registry.js';
import { identityToken, startSigstoreMock } from '../test/helpers/sigstore-mock.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const trust: CosignTrustMaterial = {
  certificateAuthorities: [],
  intermediates: [],
  rekorKeys: [],
  ctLogs: [],
};
const policy: CosignPolicy = {
  keys: [describeKey(publicKey, 'bench')],
  identities: [],
  threshold: 1,
  requireTlog: false,
  requireSct: false,
  attestations: [],
};
const payload = simpleSigningPayload('registry.test/app', DIGEST);
const sig = sign('sha256', payload, privateKey);
const layer = {
  mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
  payload,
  annotations: { 'dev.cosignproject.cosign/signature': sig.toString('base64') },
};
const statement = Buffer.from(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'registry.test/app', digest: { sha256: 'a'.repeat(64) } }],
    predicateType: 'https://sigstore.dev/cosign/sign/v1',
    predicate: {},
  }),
);
const pae = dsse.preAuthEncoding('application/vnd.in-toto+json', statement);
const dsseSig = sign('sha256', pae, privateKey);
const bundle = Buffer.from(
  JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint: 'bench' }, tlogEntries: [] },
    dsseEnvelope: {
      payload: statement.toString('base64'),
      payloadType: 'application/vnd.in-toto+json',
      signatures: [{ sig: dsseSig.toString('base64'), keyid: '' }],
    },
  }),
);

function rate(name: string, f: () => boolean, ms = 1500): number {
  for (let i = 0; i < 200; i++) if (!f()) throw new Error(`${name} did not verify`);
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) f();
    n += 50;
  }
  return n / (ms / 1000);
}

const raw = rate('raw', () => verify('sha256', payload, publicKey, sig));
const legacy = rate('legacy', () => verifySimpleSigning(layer, DIGEST, policy, trust).signerId !== '');
const bundled = rate('bundle', () => verifyBundle(bundle, { artifactDigest: DIGEST, policy, trust }).ok);
const fmt = (v: number) => `${Math.round(v)}/s`;
console.log(`raw crypto.verify (ECDSA P-256):  ${fmt(raw)}`);
console.log(`cosign legacy simple-signing:    ${fmt(legacy)}  (${(legacy / raw).toFixed(2)}x raw)`);
console.log(`cosign DSSE bundle (key):        ${fmt(bundled)}  (${(bundled / raw).toFixed(2)}x raw)`);

await registryRequests();

/** Part 2: registry requests per cold verification, by artifact kind. */
async function registryRequests(): Promise<void> {
  const registry = await startRegistry();
  const sigstore = await startSigstoreMock();
  const dir = await mkdtemp(path.join(tmpdir(), 'vouch-bench-cosign-'));
  const setup = createRegistryClient({ insecureHosts: [registry.host] });
  try {
    const pair = generateCosignKeyPair('pw');
    const pkcs8 = decryptCosignKey(pair.privateKeyFile, 'pw');
    await writeFile(path.join(dir, 'cosign.pub'), pair.publicKeyPem);
    await writeFile(path.join(dir, 'trusted_root.json'), sigstore.trustedRootJson());
    const subjectId = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
    const issuer = 'https://token.actions.githubusercontent.com';
    const keyConfig: CosignConfig = { keys: ['cosign.pub'] };
    const keylessConfig: CosignConfig = {
      trustedRoot: 'trusted_root.json',
      identities: [{ subject: subjectId, issuer }],
    };
    const cases: Array<{ name: string; mode: 'tag' | 'bundle'; keyless: boolean }> = [
      { name: '.sig tag, key', mode: 'tag', keyless: false },
      { name: 'bundle referrer, key', mode: 'bundle', keyless: false },
      { name: '.sig tag, keyless', mode: 'tag', keyless: true },
      { name: 'bundle referrer, keyless', mode: 'bundle', keyless: true },
    ];
    console.log('\nregistry requests per cold verification (engine.decide, fresh client and cache):');
    for (const c of cases) {
      const tag = `t${c.name.replace(/[^a-z]+/g, '-')}`;
      const ref = parseReference(`${registry.host}/bench:${tag}`);
      const repository = setup.repository(ref);
      const subject = await pushTestImage(repository, tag, `${tag}-${Date.now()}`);
      const target = { repository, subject, subjectReference: `${registry.host}/bench` };
      if (c.keyless) {
        await signCosignKeyless({
          ...target,
          identityToken: identityToken({ sub: subjectId, iss: issuer }),
          fulcioUrl: sigstore.fulcioUrl,
          rekorUrl: sigstore.rekorUrl,
          mode: c.mode,
        });
      } else {
        await signCosign({ ...target, privateKeyPem: pkcs8, mode: c.mode });
      }
      const trust = await loadCosignTrust(c.keyless ? keylessConfig : keyConfig, { baseDir: dir });
      const runs = 5;
      let total = 0;
      let breakdown = new Map<string, number>();
      for (let i = 0; i < runs; i++) {
        const events: RegistryRequestEvent[] = [];
        const client = createRegistryClient({
          insecureHosts: [registry.host],
          onRequest: (e) => events.push(e),
        });
        const engine = new Engine({
          verifiers: [createCosignVerifier(trust)],
          policy: compilePolicy(
            policySchema.parse({
              rules: [{ name: 'cosign', scope: '*', require: [{ verifier: 'cosign' }] }],
            }),
          ),
          registry: client,
          cache: createMemoryCache(),
        });
        const decision = await engine.decide(`${registry.host}/bench@${subject.digest}`, {
          signal: AbortSignal.timeout(20_000),
        });
        await client.close();
        if (!decision.allowed) throw new Error(`${c.name}: the decision denied: ${JSON.stringify(decision)}`);
        total += events.length;
        breakdown = new Map();
        for (const e of events) {
          const what = `${e.method} ${e.path.replace(/sha256[:-][0-9a-f]{64}/g, '<digest>').replace(/\/v2\/bench\//, '')} ${e.status}`;
          breakdown.set(what, (breakdown.get(what) ?? 0) + 1);
        }
      }
      console.log(`  ${c.name.padEnd(26)} ${(total / runs).toFixed(1)} requests`);
      for (const [what, n] of breakdown) console.log(`      ${n} x ${what}`);
    }
  } finally {
    await setup.close();
    await Promise.all([registry.stop(), sigstore.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}
