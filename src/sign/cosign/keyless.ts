/**
 * Keyless cosign signing (sigstore "Fulcio + Rekor" flow): an ephemeral key certified by Fulcio
 * for the caller's OIDC identity token, the signature logged in Rekor, optionally an RFC 3161
 * timestamp, all through `@sigstore/sign`'s bundle builders and witnesses against configurable
 * service URLs. Three outputs, like the key-based signer:
 *  - `tag`: cosign's legacy `sha256-<hex>.sig` layer (simple-signing payload) annotated exactly as
 *    cosign does (cosign `specs/SIGNATURE_SPEC.md`): `dev.cosignproject.cosign/signature`,
 *    `dev.sigstore.cosign/certificate` (leaf PEM), `dev.sigstore.cosign/chain` (the rest of the
 *    Fulcio chain, PEM), `dev.sigstore.cosign/bundle` (the Rekor SET:
 *    `{"SignedEntryTimestamp", "Payload": {body, integratedTime, logIndex, logID}}`) and, with a
 *    TSA, `dev.sigstore.cosign/rfc3161timestamp`;
 *  - `referrer`: the same layer as an OCI 1.1 referrer;
 *  - `bundle`: a sigstore bundle v0.3 referrer holding a DSSE in-toto statement with predicate
 *    `https://sigstore.dev/cosign/sign/v1` (cosign v3), its certificate and Rekor entry inside.
 * The SET comes from the entry Rekor returned (its `verification.signedEntryTimestamp`), so what
 * the annotation holds is what Rekor signed.
 */
import { bundleToJSON } from '@sigstore/bundle';
import {
  type Bundle,
  DSSEBundleBuilder,
  MessageSignatureBundleBuilder,
  RekorWitness,
  TSAWitness,
  type Witness,
} from '@sigstore/sign';
import { VouchError } from '../../errors.js';
import type { Descriptor, Repository } from '../../registry/types.js';
import { Annotation, MediaTypes } from '../../verifiers/cosign/constants.js';
import type { SignatureArtifact } from '../signature-artifact.js';
import { FulcioChainSigner } from './fulcio.js';
import { bundleArtifact, pushCosignSignature, simpleSigningPayload } from './index.js';

/** cosign's annotation for an RFC 3161 timestamp on a legacy signature layer. */
export const RFC3161_ANNOTATION = 'dev.sigstore.cosign/rfc3161timestamp';
/** The predicate cosign v3 signs images with in a bundle. */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';
/** Deadline of each Rekor / TSA request (the caller's signal bounds Fulcio and the registry). */
export const SIGSTORE_TIMEOUT_MS = 30_000;
/** Retries of a Rekor / TSA request after a network error, 5xx, 408 or 429 (a reused keep-alive socket can drop). */
const SIGSTORE_RETRY = { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 2_000 };

export interface KeylessSignOptions {
  readonly repository: Repository;
  readonly subject: Descriptor;
  /** `registry/repository`, recorded as the payload's docker-reference / the statement subject name. */
  readonly subjectReference: string;
  /** The OIDC identity token (a JWT) Fulcio certifies. */
  readonly identityToken: string;
  readonly fulcioUrl: string;
  readonly rekorUrl: string;
  /** An RFC 3161 timestamp authority (sigstore timestamp-authority API), optional. */
  readonly tsaUrl?: string;
  readonly mode: 'tag' | 'referrer' | 'bundle';
  /**
   * Rekor v1 entry kind for DSSE bundles: `intoto` 0.0.2 (default; what cosign attest logs, and
   * what `@sigstore/mock`'s Rekor, which stores proposed entries uncanonicalised, can serve) or
   * `dsse` 0.0.1.
   */
  readonly rekorEntryType?: 'intoto' | 'dsse';
  readonly signal?: AbortSignal;
}

/** What a keyless signing produced: the pushed manifest and the signing certificate chain. */
export interface KeylessSignResult {
  readonly descriptor: Descriptor;
  /** Leaf first, PEM. */
  readonly certificateChain: readonly string[];
  /** The Rekor log index of the entry. */
  readonly logIndex: number;
}

/** Requires an https URL, or http on a loopback host (test services). */
export function checkServiceUrl(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new VouchError('USAGE', `${flag} ${value} is not a URL`);
  }
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new VouchError('USAGE', `${flag} must be an https URL (http only for loopback), not ${value}`);
  }
  return url.href.replace(/\/$/, '');
}

/** A keyless signature before it is placed: the artifact, the Fulcio chain and the Rekor log index. */
export interface KeylessSignature {
  readonly signature: SignatureArtifact;
  /** Leaf first, PEM. */
  readonly certificateChain: readonly string[];
  readonly logIndex: number;
}

/**
 * Signs the subject keylessly without touching the registry: a sigstore bundle (`bundle`) or a
 * simple-signing layer annotated as cosign does (`simple-signing`). Fulcio, Rekor and the TSA are
 * contacted; the registry is not.
 */
export async function createCosignKeylessSignature(
  options: Omit<KeylessSignOptions, 'repository' | 'mode'> & { readonly form: 'bundle' | 'simple-signing' },
): Promise<KeylessSignature> {
  const { subject } = options;
  const signal = options.signal ?? AbortSignal.timeout(120_000);
  const fulcioUrl = checkServiceUrl(options.fulcioUrl, '--fulcio-url');
  const signer = new FulcioChainSigner({ fulcioUrl, identityToken: options.identityToken, signal });
  const witnesses = buildWitnesses(options.rekorUrl, options.tsaUrl, options.rekorEntryType ?? 'intoto');

  if (options.form === 'bundle') {
    const [alg, hex] = subject.digest.split(':');
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: options.subjectReference, digest: { [alg ?? 'sha256']: hex } }],
      predicateType: COSIGN_SIGN_PREDICATE_TYPE,
      predicate: {},
    };
    const bundle = await build(
      new DSSEBundleBuilder({ signer, witnesses }),
      Buffer.from(JSON.stringify(statement)),
      MediaTypes.inTotoPayload,
    );
    return {
      signature: bundleArtifact(
        Buffer.from(JSON.stringify(bundleToJSON(bundle))),
        COSIGN_SIGN_PREDICATE_TYPE,
      ),
      certificateChain: signer.chainPem,
      logIndex: logIndexOf(bundle),
    };
  }

  const payload = simpleSigningPayload(options.subjectReference, subject.digest);
  const bundle = await build(new MessageSignatureBundleBuilder({ signer, witnesses }), payload);
  if (bundle.content.$case !== 'messageSignature')
    throw new VouchError('INTERNAL', 'the message signature builder returned a DSSE bundle');
  const annotations = legacyAnnotations(bundle, bundle.content.messageSignature.signature, signer.chainPem);
  return {
    signature: {
      format: 'cosign',
      artifactType: MediaTypes.cosignArtifactSignature,
      layers: [{ bytes: payload, mediaType: MediaTypes.simpleSigning, annotations }],
    },
    certificateChain: signer.chainPem,
    logIndex: logIndexOf(bundle),
  };
}

/** Signs the subject keylessly and pushes the signature in the requested form. */
export async function signCosignKeyless(options: KeylessSignOptions): Promise<KeylessSignResult> {
  const signal = options.signal ?? AbortSignal.timeout(120_000);
  const { repository, mode, ...rest } = options;
  const made = await createCosignKeylessSignature({
    ...rest,
    signal,
    form: mode === 'bundle' ? 'bundle' : 'simple-signing',
  });
  const descriptor = await pushCosignSignature(
    repository,
    options.subject,
    made.signature,
    mode === 'tag' ? 'tag' : 'referrer',
    signal,
  );
  return { descriptor, certificateChain: made.certificateChain, logIndex: made.logIndex };
}

/** Rekor (and, with `tsaUrl`, timestamp authority) witnesses, each request with a deadline. */
export function buildWitnesses(
  rekorUrl: string,
  tsaUrl: string | undefined,
  entryType: 'intoto' | 'dsse',
): Witness[] {
  const witnesses: Witness[] = [
    new RekorWitness({
      rekorBaseURL: checkServiceUrl(rekorUrl, '--rekor-url'),
      entryType,
      timeout: SIGSTORE_TIMEOUT_MS,
      retry: SIGSTORE_RETRY,
      // Rekor answers 409 with the entry's location when a retried upload had already landed.
      fetchOnConflict: true,
    }),
  ];
  if (tsaUrl) {
    const tsaBaseURL = checkServiceUrl(tsaUrl, '--tsa-url');
    witnesses.push(new TSAWitness({ tsaBaseURL, timeout: SIGSTORE_TIMEOUT_MS, retry: SIGSTORE_RETRY }));
  }
  return witnesses;
}

async function build(
  builder: DSSEBundleBuilder | MessageSignatureBundleBuilder,
  data: Buffer,
  type?: string,
): Promise<Bundle> {
  try {
    return await builder.create(type ? { data, type } : { data });
  } catch (err) {
    if (err instanceof VouchError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new VouchError('SIGNING_FAILED', `keyless signing failed: ${message.slice(0, 300)}`, {
      cause: err,
    });
  }
}

function logIndexOf(bundle: Bundle): number {
  return Number(bundle.verificationMaterial.tlogEntries[0]?.logIndex ?? -1);
}

/**
 * The annotations cosign writes on a keyless legacy signature layer, from the bundle the builder
 * made (signature, Rekor entry with its SET, timestamps) and the Fulcio chain.
 */
export function legacyAnnotations(
  bundle: Bundle,
  signature: Buffer,
  chainPem: readonly string[],
): Record<string, string> {
  const entry = bundle.verificationMaterial.tlogEntries[0];
  const set = entry?.inclusionPromise?.signedEntryTimestamp;
  if (!entry || !set || set.length === 0) {
    throw new VouchError('SIGNING_FAILED', 'Rekor returned no signed entry timestamp for the signature');
  }
  // Go struct order of cosign's bundle.RekorBundle / RekorPayload.
  const rekorBundle = {
    SignedEntryTimestamp: Buffer.from(set).toString('base64'),
    Payload: {
      body: Buffer.from(entry.canonicalizedBody).toString('base64'),
      integratedTime: Number(entry.integratedTime),
      logIndex: Number(entry.logIndex),
      logID: Buffer.from(entry.logId.keyId).toString('hex'),
    },
  };
  const annotations: Record<string, string> = {
    [Annotation.signature]: signature.toString('base64'),
    [Annotation.certificate]: chainPem[0] ?? '',
    [Annotation.chain]: chainPem.slice(1).join(''),
    [Annotation.bundle]: JSON.stringify(rekorBundle),
  };
  const timestamp = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps[0];
  if (timestamp) {
    annotations[RFC3161_ANNOTATION] = JSON.stringify({
      SignedRFC3161Timestamp: Buffer.from(timestamp.signedTimestamp).toString('base64'),
    });
  }
  return annotations;
}
