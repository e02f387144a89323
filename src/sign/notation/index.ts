/**
 * The Notary Project signer: builds a `notary.x509` envelope over the subject's descriptor with a key
 * and its certificate chain, optionally countersigned by an RFC 3161 TSA, and attaches it as a
 * referrer of artifactType `application/vnd.cncf.notary.signature` with the
 * `io.cncf.notary.x509chain.thumbprint#S256` annotation (specs/signature-specification.md "OCI Signatures").
 */
import { VouchError } from '../../errors.js';
import { attachArtifact } from '../../referrers/attach.js';
import type { Descriptor, Repository } from '../../registry/types.js';
import {
  type ParsedCertificate,
  parseCertificate,
  readCertificates,
} from '../../trust/notation/certificate.js';
import { algorithmForKey, parsePrivateKey } from '../../verifiers/notation/algorithms.js';
import { validateCertificateChain } from '../../verifiers/notation/chain.js';
import {
  COSE_MEDIA_TYPE,
  JWS_MEDIA_TYPE,
  SIGNATURE_ARTIFACT_TYPE,
  THUMBPRINT_ANNOTATION,
} from '../../verifiers/notation/envelope.js';
import { VERSION } from '../../version.js';
import type { SignatureArtifact } from '../signature-artifact.js';
import { buildCoseEnvelope, buildJwsEnvelope } from './envelope.js';
import { requestTimestamp } from './tsa.js';

export interface SignNotationOptions {
  readonly repository: Repository;
  readonly subject: Descriptor;
  /** PEM private key (PKCS#8, PKCS#1 or SEC1). */
  readonly keyPem: string;
  /** PEM certificate chain, leaf first, ending in a root (or one self-signed leaf). */
  readonly certChainPem: string;
  readonly envelope: 'jws' | 'cose';
  /** RFC 3161 timestamp authority URL (http or https). */
  readonly timestampUrl?: string;
  /** Optional "best by use" time (`io.cncf.notary.expiry`). */
  readonly expiry?: Date;
  readonly signal?: AbortSignal;
  readonly now?: Date;
}

/** Builds the envelope bytes without pushing (also used by tests and benchmarks). */
export async function createNotationEnvelope(
  options: Omit<SignNotationOptions, 'repository'>,
): Promise<{ bytes: Uint8Array; mediaType: string; chain: ParsedCertificate[] }> {
  let chain: ParsedCertificate[];
  try {
    chain = readCertificates(new TextEncoder().encode(options.certChainPem)).map(parseCertificate);
  } catch (err) {
    throw new VouchError(
      'SIGNING_FAILED',
      `the certificate chain does not parse: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const problem = validateCertificateChain(chain, 'codeSigning');
  if (problem)
    throw new VouchError(
      'SIGNING_FAILED',
      `the certificate chain is not a valid code signing chain: ${problem}`,
    );
  let key: ReturnType<typeof parsePrivateKey>;
  try {
    key = parsePrivateKey(options.keyPem);
  } catch (err) {
    throw new VouchError('SIGNING_FAILED', `the private key does not parse: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const leaf = chain[0] as ParsedCertificate;
  const alg = algorithmForKey(leaf.publicKey);
  if (typeof alg !== 'string')
    throw new VouchError('SIGNING_FAILED', `the signing certificate's key is not allowed: ${alg.error}`);
  const pub = leaf.publicKey.export({ format: 'der', type: 'spki' });
  const { createPublicKey } = await import('node:crypto');
  if (!Buffer.from(createPublicKey(key).export({ format: 'der', type: 'spki' })).equals(Buffer.from(pub))) {
    throw new VouchError(
      'SIGNING_FAILED',
      'the private key does not belong to the first certificate of --cert',
    );
  }
  const now = options.now ?? new Date();
  if (now < leaf.notBefore || now > leaf.notAfter) {
    throw new VouchError(
      'SIGNING_FAILED',
      `the signing certificate "${leaf.subject}" is not valid now (valid ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()})`,
    );
  }
  const timestampUrl = options.timestampUrl;
  const input = {
    subject: options.subject,
    alg,
    key,
    chain: chain.map((c) => c.der),
    signingTime: now,
    ...(options.expiry ? { expiry: options.expiry } : {}),
    signingAgent: `vouch/${VERSION}`,
    ...(timestampUrl
      ? { timestamp: (sig: Uint8Array) => requestTimestamp(timestampUrl, sig, options.signal) }
      : {}),
  };
  if (options.envelope === 'jws')
    return { bytes: await buildJwsEnvelope(input), mediaType: JWS_MEDIA_TYPE, chain };
  return { bytes: await buildCoseEnvelope(input), mediaType: COSE_MEDIA_TYPE, chain };
}

/**
 * Signs `subject` without pushing: the envelope as the one layer of a notation signature artifact,
 * with the chain's thumbprints and the creation time as the referrer's annotations.
 */
export async function createNotationSignature(
  options: Omit<SignNotationOptions, 'repository'>,
): Promise<SignatureArtifact> {
  const { bytes, mediaType, chain } = await createNotationEnvelope(options);
  return {
    format: 'notation',
    artifactType: SIGNATURE_ARTIFACT_TYPE,
    layers: [{ bytes, mediaType }],
    annotations: {
      [THUMBPRINT_ANNOTATION]: JSON.stringify(chain.map((c) => c.sha256)),
      'org.opencontainers.image.created': (options.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
  };
}

/** Signs `subject` and attaches the signature in `repository`; returns the signature manifest's descriptor. */
export async function signNotation(options: SignNotationOptions): Promise<Descriptor> {
  const signature = await createNotationSignature(options);
  return attachArtifact(options.repository, {
    subject: options.subject,
    artifactType: signature.artifactType,
    layers: signature.layers,
    ...(signature.annotations ? { annotations: signature.annotations } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
