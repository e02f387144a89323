/**
 * Cosign verification throughput in-process: legacy key-based simple-signing and key-signed
 * DSSE bundles, each as a ratio to raw `crypto.verify` with the same key in the same run.
 * Run: `source scripts/env.sh && node --import tsx bench/cosign.ts`
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { dsse } from '@sigstore/core';
import { simpleSigningPayload } from '../src/sign/cosign/index.js';
import { verifyBundle } from '../src/verifiers/cosign/bundle.js';
import type { CosignPolicy, CosignTrustMaterial } from '../src/verifiers/cosign/model.js';
import { describeKey } from '../src/verifiers/cosign/public-key.js';
import { verifySimpleSigning } from '../src/verifiers/cosign/simplesigning.js';

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
