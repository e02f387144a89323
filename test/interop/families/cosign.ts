/**
 * Interop handlers for the `cosign` family (../shared/interop/cosign/README.md documents the kinds).
 * Each handler builds trust material and a policy from the case, runs the pure verification
 * functions of src/verifiers/cosign, and maps the verifier's reason to the README's failure classes.
 * A kind with no handler here fails in the runner; nothing is skipped.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { X509Certificate } from '@sigstore/core';
import { isVouchError } from '../../../src/errors.js';
import {
  authoritiesFromRoots,
  logKeyFromPem,
  parseTrustedRoot,
} from '../../../src/trust/cosign/trusted-root.js';
import type { CosignPolicy, CosignTrustMaterial, IdentityMatcher } from '../../../src/trust/cosign/types.js';
import { verifyBundle } from '../../../src/verifiers/cosign/bundle.js';
import type { CosignReason } from '../../../src/verifiers/cosign/failure.js';
import { parsePublicKey, pemBlocks } from '../../../src/verifiers/cosign/public-key.js';
import {
  type SimpleSigningLayer,
  verifySimpleSigningSet,
} from '../../../src/verifiers/cosign/simplesigning.js';
import type { CaseEnv, CaseResult, FamilyHandlers, InteropCase } from '../types.js';

/** The README's failure classes, from the verifier's reasons. */
const CLASS: Record<CosignReason, string> = {
  ok: 'ok',
  'invalid-signature': 'signature',
  'untrusted-signer': 'signature',
  'threshold-not-met': 'signature',
  'identity-mismatch': 'identity',
  'untrusted-chain': 'untrusted-chain',
  'sct-invalid': 'untrusted-chain',
  'tlog-missing': 'tlog',
  'tlog-invalid': 'tlog',
  'digest-mismatch': 'payload-mismatch',
  'predicate-type-mismatch': 'payload-mismatch',
  'condition-failed': 'payload-mismatch',
  'builder-mismatch': 'payload-mismatch',
  'source-mismatch': 'payload-mismatch',
  'ref-mismatch': 'payload-mismatch',
  'build-type-mismatch': 'payload-mismatch',
  'disallowed-severity': 'payload-mismatch',
  'denylisted-cve': 'payload-mismatch',
  'unreadable-severity': 'payload-mismatch',
  'disallowed-license': 'payload-mismatch',
  'disallowed-package': 'payload-mismatch',
  malformed: 'malformed',
  'media-type-mismatch': 'malformed',
  expired: 'expired',
};

interface SignatureSpec {
  format: 'containers-image-sigstore-json' | 'oci-manifest-layer' | 'raw-parts';
  file?: string;
  manifest?: string;
  layerIndex?: number;
  payload?: string;
  signatureBase64File?: string;
  certificate?: string;
  chain?: string;
  rekorBundle?: string;
}

interface CaseIdentity {
  issuer?: string;
  subject?: string;
  issuerRegExp?: string;
  subjectRegExp?: string;
  hostname?: string;
}

const SIGSTORE_JSON_PREFIX = Buffer.from('\0sigstore-json\n', 'latin1');

async function readLayer(spec: SignatureSpec, dir: string): Promise<SimpleSigningLayer> {
  const file = (p: string | undefined) => readFile(path.join(dir, p ?? ''));
  switch (spec.format) {
    case 'containers-image-sigstore-json': {
      const raw = await file(spec.file);
      const body = raw.subarray(0, SIGSTORE_JSON_PREFIX.length).equals(SIGSTORE_JSON_PREFIX)
        ? raw.subarray(SIGSTORE_JSON_PREFIX.length)
        : raw;
      const doc = JSON.parse(body.toString('utf8')) as {
        mimeType: string;
        payload: string;
        annotations?: Record<string, string>;
      };
      return {
        mediaType: doc.mimeType,
        payload: Buffer.from(doc.payload, 'base64'),
        annotations: doc.annotations ?? {},
      };
    }
    case 'oci-manifest-layer': {
      const manifest = JSON.parse((await file(spec.manifest)).toString('utf8')) as {
        layers: Array<{ mediaType: string; digest: string; annotations?: Record<string, string> }>;
      };
      const layer = manifest.layers[spec.layerIndex ?? 0];
      if (!layer) throw new Error(`no layer ${spec.layerIndex}`);
      return {
        mediaType: layer.mediaType,
        digest: layer.digest,
        payload: await file(spec.payload),
        annotations: layer.annotations ?? {},
      };
    }
    case 'raw-parts': {
      const annotations: Record<string, string> = {
        'dev.cosignproject.cosign/signature': (await file(spec.signatureBase64File)).toString('utf8').trim(),
      };
      if (spec.certificate)
        annotations['dev.sigstore.cosign/certificate'] = (await file(spec.certificate)).toString('utf8');
      if (spec.chain) annotations['dev.sigstore.cosign/chain'] = (await file(spec.chain)).toString('utf8');
      if (spec.rekorBundle)
        annotations['dev.sigstore.cosign/bundle'] = (await file(spec.rekorBundle)).toString('utf8');
      return {
        mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        payload: await file(spec.payload),
        annotations,
      };
    }
  }
}

interface Mutation {
  removeAnnotations?: string[];
  setAnnotationsFrom?: SignatureSpec & { annotations: string[] };
  replacePayloadUtf8?: string;
}

async function mutate(
  layer: SimpleSigningLayer,
  m: Mutation | undefined,
  dir: string,
): Promise<SimpleSigningLayer> {
  if (!m) return layer;
  const annotations = { ...layer.annotations };
  for (const name of m.removeAnnotations ?? []) delete annotations[name];
  if (m.setAnnotationsFrom) {
    const from = await readLayer(m.setAnnotationsFrom, dir);
    for (const name of m.setAnnotationsFrom.annotations) {
      const v = from.annotations[name];
      if (v !== undefined) annotations[name] = v;
    }
  }
  const payload =
    m.replacePayloadUtf8 !== undefined ? Buffer.from(m.replacePayloadUtf8, 'utf8') : layer.payload;
  return {
    mediaType: layer.mediaType,
    payload,
    annotations,
    ...(layer.digest ? { digest: layer.digest } : {}),
  };
}

/** cosign's `--certificate-*-regexp` are unanchored (Go MatchString): compile them as written. */
function toMatcher(id: CaseIdentity | undefined): IdentityMatcher[] {
  if (!id) return [];
  return [
    {
      ...(id.issuer !== undefined && id.issuerRegExp === undefined ? { issuer: id.issuer } : {}),
      ...(id.issuerRegExp !== undefined ? { issuerRegExp: new RegExp(id.issuerRegExp) } : {}),
      ...(id.subject !== undefined && id.subjectRegExp === undefined ? { subject: id.subject } : {}),
      ...(id.subjectRegExp !== undefined ? { subjectRegExp: new RegExp(id.subjectRegExp) } : {}),
      ...(id.hostname !== undefined ? { hostname: id.hostname } : {}),
    },
  ];
}

async function text(dir: string, p: string): Promise<string> {
  return (await readFile(path.join(dir, p))).toString('utf8');
}

async function simpleSigningTrust(c: InteropCase, dir: string): Promise<CosignTrustMaterial> {
  const t = (c.trust ?? {}) as {
    fulcioRoots?: string[];
    caRoots?: string[];
    caIntermediates?: string[];
    rekorPublicKeys?: string[];
    trustedRoot?: string;
  };
  if (t.trustedRoot) return parseTrustedRoot(await text(dir, t.trustedRoot), t.trustedRoot);
  const certs = async (files: string[] | undefined) =>
    (await Promise.all((files ?? []).map((f) => text(dir, f)))).flatMap((pem) =>
      pemBlocks(pem, 'CERTIFICATE').map((b) => X509Certificate.parse(b)),
    );
  return {
    certificateAuthorities: authoritiesFromRoots([
      ...(await certs(t.fulcioRoots)),
      ...(await certs(t.caRoots)),
    ]),
    intermediates: await certs(t.caIntermediates),
    rekorKeys: await Promise.all(
      (t.rekorPublicKeys ?? []).map(async (f) => logKeyFromPem(await text(dir, f), f)),
    ),
    ctLogs: [],
  };
}

async function runSimpleSigning(c: InteropCase, env: CaseEnv): Promise<CaseResult> {
  const dir = env.dir;
  const trust = await simpleSigningTrust(c, dir);
  const t = (c.trust ?? {}) as { publicKeys?: string[]; trustedRoot?: string };
  const keys = await Promise.all(
    (t.publicKeys ?? []).map(async (f) => parsePublicKey(await text(dir, f), f)),
  );
  const identities = toMatcher(c.identity as CaseIdentity | undefined);
  const policy: CosignPolicy = {
    keys,
    identities,
    threshold: typeof c.threshold === 'number' ? c.threshold : 1,
    requireTlog: c.requireTlog === true,
    // containers/image does not check SCTs; with a full trusted root the CT logs are known.
    requireSct: t.trustedRoot !== undefined,
    attestations: [],
  };
  const specs = c.signatures as SignatureSpec[];
  const layers = await Promise.all(
    specs.map(async (s) => mutate(await readLayer(s, dir), c.mutate as Mutation | undefined, dir)),
  );
  const certificateOnly = c.scope === 'certificate';
  const now = typeof c.verifyAt === 'string' ? new Date(c.verifyAt) : undefined;
  const { verified, failures } = verifySimpleSigningSet(layers, String(c.imageDigest), policy, trust, {
    certificateOnly,
    ...(now ? { now } : {}),
  });
  if (verified.length >= policy.threshold) return { verified: true, reason: 'ok' };
  if (verified.length > 0) {
    return {
      verified: false,
      reason: 'signature',
      detail: `${verified.length} of ${policy.threshold} signers verified`,
    };
  }
  const first = failures[0];
  return {
    verified: false,
    reason: first ? CLASS[first.reason] : 'signature',
    detail: first?.message ?? 'no signature',
  };
}

async function runBundle(c: InteropCase, env: CaseEnv): Promise<CaseResult> {
  const dir = env.dir;
  let trust: CosignTrustMaterial;
  try {
    trust = parseTrustedRoot(await text(dir, String(c.trustedRoot)), String(c.trustedRoot));
  } catch (err) {
    if (isVouchError(err, 'TRUST_MATERIAL_INVALID'))
      return { verified: false, reason: 'malformed', detail: err.message };
    throw err;
  }
  const keyFile = typeof c.publicKey === 'string' ? c.publicKey : undefined;
  let keys: ReturnType<typeof parsePublicKey>[] = [];
  try {
    keys = keyFile ? [parsePublicKey(await text(dir, keyFile), keyFile)] : [];
  } catch (err) {
    if (isVouchError(err, 'TRUST_MATERIAL_INVALID'))
      return { verified: false, reason: 'malformed', detail: err.message };
    throw err;
  }
  const identity = c.identity as CaseIdentity | undefined;
  const policy: CosignPolicy = {
    keys,
    identities: toMatcher(identity),
    threshold: 1,
    requireTlog: true,
    requireSct: true,
    attestations: [],
  };
  const bundleBytes = await readFile(path.join(dir, String(c.bundle)));
  const artifact = typeof c.artifact === 'string' ? await readFile(path.join(dir, c.artifact)) : undefined;
  const digest = typeof c.artifactDigest === 'string' ? c.artifactDigest : undefined;
  const result = verifyBundle(bundleBytes, {
    ...(artifact ? { artifact } : {}),
    ...(digest ? { artifactDigest: digest } : {}),
    policy,
    trust,
    // cases without any identity (sigstore-js) verify the signer only, as upstream does.
    allowAnyIdentity: identity === undefined && keys.length === 0,
  });
  if (result.ok) return { verified: true, reason: 'ok' };
  return { verified: false, reason: CLASS[result.reason], detail: result.message };
}

export const cosignFamily: FamilyHandlers = {
  family: 'cosign',
  handlers: {
    'cosign-simplesigning': runSimpleSigning,
    'sigstore-bundle': runBundle,
    'dsse-attestation': runBundle,
  },
};
