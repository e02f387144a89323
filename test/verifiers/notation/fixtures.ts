/**
 * Shared fixtures for the notation tests: test certificates (generated once per process), trust
 * material built in memory, and envelopes made with the project's own signer, plus a raw JWS builder
 * for protected headers the signer would never produce.
 */
import { createHash } from 'node:crypto';
import { createNotationEnvelope } from '../../../src/sign/notation/index.js';
import {
  generateTestCertificate,
  type TestCertificate,
  type TestCertificateOptions,
} from '../../../src/sign/notation/testcert.js';
import { parseCertificate } from '../../../src/trust/notation/certificate.js';
import {
  parseTrustPolicy,
  type StoreType,
  type TrustPolicyStatement,
} from '../../../src/trust/notation/policy.js';
import type { NamedTrustStore } from '../../../src/trust/notation/store.js';
import type { NotationTrust } from '../../../src/trust/notation/types.js';
import {
  createSignature,
  parsePrivateKey,
  type SignatureAlgorithm,
} from '../../../src/verifiers/notation/algorithms.js';

export const SUBJECT = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${createHash('sha256').update('subject').digest('hex')}`,
  size: 1234,
} as const;

const memo = new Map<string, Promise<TestCertificate>>();
/** A certificate generated once per process per `id`. */
export function cert(
  id: string,
  options: Omit<TestCertificateOptions, 'name'> & { name?: string } = {},
): Promise<TestCertificate> {
  let p = memo.get(id);
  if (!p) {
    p = generateTestCertificate({ name: options.name ?? `${id}.example`, ...options });
    memo.set(id, p);
  }
  return p;
}

/** Trust material with one `*` statement. */
export function trustFor(
  stores: Partial<Record<StoreType, readonly Uint8Array[]>>,
  signatureVerification: Record<string, unknown> = { level: 'strict', override: { revocation: 'skip' } },
  trustedIdentities: readonly string[] = ['*'],
): { trust: NotationTrust; statement: TrustPolicyStatement } {
  const built: Record<StoreType, Map<string, NamedTrustStore>> = {
    ca: new Map(),
    signingAuthority: new Map(),
    tsa: new Map(),
  };
  const refs: string[] = [];
  for (const [type, ders] of Object.entries(stores) as Array<[StoreType, Uint8Array[]]>) {
    built[type].set('test', { type, name: 'test', certificates: ders.map(parseCertificate) });
    refs.push(`${type}:test`);
  }
  const policy = parseTrustPolicy(
    {
      version: '1.0',
      trustPolicies: [
        { name: 'test', registryScopes: ['*'], signatureVerification, trustStores: refs, trustedIdentities },
      ],
    },
    'trustPolicy',
  );
  const trust: NotationTrust = { policy, stores: built, generation: 'test', revocation: { timeoutMs: 1000 } };
  return { trust, statement: policy.statements[0] as TrustPolicyStatement };
}

/** An envelope made by the signer. */
export async function envelope(
  format: 'jws' | 'cose',
  signer: TestCertificate,
  options: {
    chain?: readonly TestCertificate[];
    subject?: typeof SUBJECT | { mediaType: string; digest: string; size: number };
    expiry?: Date;
    now?: Date;
  } = {},
): Promise<Uint8Array> {
  const chain = options.chain ?? [signer];
  const { bytes } = await createNotationEnvelope({
    subject: options.subject ?? SUBJECT,
    keyPem: signer.keyPem,
    certChainPem: chain.map((c) => c.certPem).join(''),
    envelope: format,
    ...(options.expiry ? { expiry: options.expiry } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  return bytes;
}

/** A JWS with an arbitrary protected header, signed with `signer`'s key (for headers the signer never writes). */
export function rawJws(
  signer: TestCertificate,
  alg: SignatureAlgorithm,
  header: Record<string, unknown>,
  payload: unknown = { targetArtifact: SUBJECT },
): Uint8Array {
  const protectedB64 = Buffer.from(JSON.stringify(header)).toString('base64url');
  const payloadB64 = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const sig = createSignature(
    alg,
    parsePrivateKey(signer.keyPem),
    new TextEncoder().encode(`${protectedB64}.${payloadB64}`),
  );
  return new TextEncoder().encode(
    JSON.stringify({
      payload: payloadB64,
      protected: protectedB64,
      header: { x5c: [Buffer.from(signer.der).toString('base64')] },
      signature: Buffer.from(sig).toString('base64url'),
    }),
  );
}

/** The standard protected header for a notary.x509 JWS. */
export function standardHeader(
  alg: SignatureAlgorithm,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    alg,
    cty: 'application/vnd.cncf.notary.payload.v1+json',
    crit: ['io.cncf.notary.signingScheme'],
    'io.cncf.notary.signingScheme': 'notary.x509',
    'io.cncf.notary.signingTime': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...extra,
  };
}

/** Edits a JWS envelope's JSON. */
export function editJws(bytes: Uint8Array, edit: (doc: Record<string, unknown>) => void): Uint8Array {
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  edit(doc);
  return new TextEncoder().encode(JSON.stringify(doc));
}
