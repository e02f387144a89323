/**
 * Notary Project envelope verification throughput in-process (JWS and COSE, RSA-2048/PS256 and
 * EC P-256/ES256), each as a ratio to raw `crypto.verify` of the same signature with the same key in
 * the same run. The full core runs every time: parse, chain rules, trust store, identities, expiry,
 * validity (certificate parses and self-signature checks are memoized per DER, as in the verifier).
 * `raw` is `crypto.verify(hash, data, { key, padding | dsaEncoding }, sig)`, the obvious call; `prim`
 * is vouch's own primitive check (verifySignature: a PSS-restricted key / DER ECDSA signature, which
 * skips Node's per-call options handling), so `full/prim` is the overhead of everything but crypto.
 * Run: `source scripts/env.sh && node --import tsx bench/notation.ts`
 */
import { constants, createHash, verify } from 'node:crypto';
import { createNotationEnvelope } from '../src/sign/notation/index.js';
import { generateTestCertificate } from '../src/sign/notation/testcert.js';
import { parseCertificate } from '../src/trust/notation/certificate.js';
import { parseTrustPolicy, type TrustPolicyStatement } from '../src/trust/notation/policy.js';
import type { NotationTrust } from '../src/trust/notation/types.js';
import { verifySignature } from '../src/verifiers/notation/algorithms.js';
import { verifyNotationEnvelope } from '../src/verifiers/notation/core.js';
import { parseCoseEnvelope } from '../src/verifiers/notation/cose.js';
import { parseJwsEnvelope } from '../src/verifiers/notation/jws.js';

const SUBJECT = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${createHash('sha256').update('x').digest('hex')}`,
  size: 100,
};
const DURATION_MS = 700;

/** Operations per second of CPU time (process.cpuUsage), so other load on the machine skews both sides less. */
function rate(fn: () => void): number {
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const wall = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - wall < DURATION_MS) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
  }
  const used = process.cpuUsage(cpu);
  return (n * 1e6) / (used.user + used.system);
}

for (const keyAlgorithm of ['rsa-2048', 'ec-p256'] as const) {
  const signer = await generateTestCertificate({ name: `bench-${keyAlgorithm}`, keyAlgorithm });
  const parsed = parseCertificate(signer.der);
  const policy = parseTrustPolicy(
    {
      version: '1.0',
      trustPolicies: [
        {
          name: 'bench',
          registryScopes: ['*'],
          signatureVerification: { level: 'strict', override: { revocation: 'skip' } },
          trustStores: ['ca:bench'],
          trustedIdentities: ['x509.subject: C=US, ST=WA, O=Notary'],
        },
      ],
    },
    'bench',
  );
  const trust: NotationTrust = {
    policy,
    stores: {
      ca: new Map([['bench', { type: 'ca', name: 'bench', certificates: [parsed] }]]),
      signingAuthority: new Map(),
      tsa: new Map(),
    },
    generation: 'bench',
    revocation: { timeoutMs: 1000 },
  };
  const statement = policy.statements[0] as TrustPolicyStatement;
  for (const format of ['jws', 'cose'] as const) {
    const { bytes, mediaType } = await createNotationEnvelope({
      subject: SUBJECT,
      keyPem: signer.keyPem,
      certChainPem: signer.certPem,
      envelope: format,
    });
    const env = format === 'jws' ? parseJwsEnvelope(bytes) : parseCoseEnvelope(bytes);
    const rsa = keyAlgorithm.startsWith('rsa');
    const rawOnce = () => {
      const ok = rsa
        ? verify(
            'sha256',
            env.signingInput,
            { key: parsed.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
            env.signature,
          )
        : verify(
            'sha256',
            env.signingInput,
            { key: parsed.publicKey, dsaEncoding: 'ieee-p1363' },
            env.signature,
          );
      if (!ok) throw new Error('raw verify failed');
    };
    // Alternate raw and full rounds so machine load affects both alike.
    const raws: number[] = [];
    const fulls: number[] = [];
    const prims: number[] = [];
    const primOnce = () => {
      if (!verifySignature(env.signed.alg, parsed.publicKey, env.signingInput, env.signature))
        throw new Error('primitive verify failed');
    };
    const now = new Date();
    const fullOnce = () => {
      if (!verifyNotationEnvelope(bytes, mediaType, SUBJECT, trust, statement, { now }).verified)
        throw new Error('verify failed');
    };
    for (let round = 0; round < 3; round++) {
      raws.push(rate(rawOnce));
      fulls.push(rate(fullOnce));
      prims.push(rate(primOnce));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const raw = median(raws);
    const full = median(fulls);
    const prim = median(prims);
    console.log(
      `${format.toUpperCase().padEnd(4)} ${keyAlgorithm.padEnd(8)} envelope verifications/s ${full.toFixed(0).padStart(7)}  raw crypto.verify/s ${raw.toFixed(0).padStart(7)}  ratio ${(full / raw).toFixed(2)}  (prim/s ${prim.toFixed(0).padStart(7)}, full/prim ${(full / prim).toFixed(2)})`,
    );
  }
}
