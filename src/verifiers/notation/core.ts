/**
 * The pure core of Notary Project signature verification: bytes in, result out, no I/O.
 * Follows specs/trust-store-trust-policy.md "Signature Verification" steps: integrity,
 * authenticity (trust store + trusted identities), expiry, authentic timestamp; revocation needs the
 * network and is returned as `revocationPending` for the caller to finish (see revocation.ts).
 */

import type { Descriptor } from '../../registry/types.js';
import type { ParsedCertificate } from '../../trust/notation/certificate.js';
import { parseCertificate } from '../../trust/notation/certificate.js';
import { isSubsetDn } from '../../trust/notation/dn.js';
import type { StoreType, TrustPolicyStatement, VerificationCheck } from '../../trust/notation/policy.js';
import type { NotationTrust } from '../../trust/notation/types.js';
import { algorithmForCertificate, verifySignature } from './algorithms.js';
import { validateCertificateChain } from './chain.js';
import { parseCoseEnvelope } from './cose.js';
import {
  COSE_MEDIA_TYPE,
  EnvelopeError,
  HEADER,
  JWS_MEDIA_TYPE,
  MAX_ENVELOPE_BYTES,
  PAYLOAD_CONTENT_TYPE,
  type ParsedEnvelope,
} from './envelope.js';
import { parseJwsEnvelope } from './jws.js';
import type { NotationFailure, NotationFailureCode, NotationResult } from './result.js';
import { TimestampError, verifyTimestampToken } from './timestamp.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Critical headers this implementation understands (specs/signature-specification.md "Signed Attributes"). */
const UNDERSTOOD_CRITICAL = new Set<string>([
  HEADER.signingScheme,
  HEADER.authenticSigningTime,
  HEADER.expiry,
]);

class Stop extends Error {
  constructor(readonly failure: NotationFailure) {
    super(failure.message);
  }
}

interface Anchors {
  readonly certificates: readonly ParsedCertificate[];
  readonly hashes: ReadonlySet<string>;
}
/** Anchors per trust material, statement and store type: computed once, not per envelope. */
const anchorsMemo = new WeakMap<object, WeakMap<TrustPolicyStatement, Map<StoreType, Anchors>>>();

function storesOf(trust: NotationTrust, statement: TrustPolicyStatement, type: StoreType): Anchors {
  let byStatement = anchorsMemo.get(trust.stores);
  if (!byStatement) {
    byStatement = new WeakMap();
    anchorsMemo.set(trust.stores, byStatement);
  }
  let byType = byStatement.get(statement);
  if (!byType) {
    byType = new Map();
    byStatement.set(statement, byType);
  }
  let anchors = byType.get(type);
  if (!anchors) {
    const certificates = statement.trustStores
      .filter((s) => s.type === type)
      .flatMap((s) => trust.stores[type].get(s.name)?.certificates ?? []);
    anchors = { certificates, hashes: new Set(certificates.map((c) => c.sha256)) };
    byType.set(type, anchors);
  }
  return anchors;
}

const utc = (d: Date) => d.toUTCString().replace('GMT', '+0000');

/**
 * Verifies one envelope against `subject` under one trust policy statement. `now` is the verification time.
 * Never throws for bad input; every failure is a NotationResult.
 */
export function verifyNotationEnvelope(
  envelopeBytes: Uint8Array,
  mediaType: string,
  subject: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>,
  trust: NotationTrust,
  statement: TrustPolicyStatement,
  options: { now: Date },
): NotationResult {
  const now = options.now;
  const details: Record<string, unknown> = {
    trustPolicy: statement.name,
    level: statement.level,
    envelopeMediaType: mediaType,
  };
  const logged: NotationFailure[] = [];
  if (statement.level === 'skip') return { verified: true, logged, details: { ...details, skipped: true } };

  /** Records a failed check: enforced -> stop; logged -> remember and continue. */
  const fail = (check: VerificationCheck, code: NotationFailureCode, message: string): undefined => {
    const failure = { check, code, message };
    if (statement.actions[check] === 'enforce') throw new Stop(failure);
    if (statement.actions[check] === 'log') logged.push(failure);
    return undefined;
  };
  try {
    const envelope = parseEnvelope(envelopeBytes, mediaType);
    const chain = parseChain(envelope);
    const leaf = chain[0] as ParsedCertificate;
    details.signer = leaf.subject;
    details.issuer = leaf.issuer;
    details.certificateChain = chain.map((c) => ({ subject: c.subject, sha256: c.sha256 }));
    details.signingScheme = envelope.signed.signingScheme;
    details.envelope = envelope.format;
    if (envelope.signed.signingTime) details.signingTime = envelope.signed.signingTime.toISOString();
    if (envelope.signed.authenticSigningTime)
      details.authenticSigningTime = envelope.signed.authenticSigningTime.toISOString();
    if (envelope.signed.expiry) details.expiry = envelope.signed.expiry.toISOString();
    if (envelope.signingAgent) details.signingAgent = envelope.signingAgent;
    checkIntegrity(envelope, chain, subject);

    // Authenticity: specs/trust-store-trust-policy.md step "Validate Authenticity".
    let authenticated = false;
    /** Certificates from the leaf up to the highest one found in a trust store (0: none). */
    let anchored = 0;
    if (statement.actions.authenticity !== 'skip') {
      const type: StoreType = envelope.signed.signingScheme === 'notary.x509' ? 'ca' : 'signingAuthority';
      const { certificates: anchors, hashes: anchorHashes } = storesOf(trust, statement, type);
      if (anchors.length === 0) {
        fail(
          'authenticity',
          'untrusted-chain',
          `signature is not produced by a trusted signer: no trusted certificates are found to verify authenticity (the trust policy names no "${type}" store for signing scheme ${envelope.signed.signingScheme})`,
        );
      } else if (!chain.some((c) => anchorHashes.has(c.sha256))) {
        fail(
          'authenticity',
          'untrusted-chain',
          `signature is not produced by a trusted signer: the signature's certificate chain does not contain any trusted certificate (signer "${leaf.subject}")`,
        );
      } else if (
        statement.trustedIdentities !== '*' &&
        !statement.trustedIdentities.some((dn) => isSubsetDn(dn, leaf.subjectAttributes))
      ) {
        fail(
          'authenticity',
          'identity',
          `signature is not produced by a trusted signer: signing certificate subject "${leaf.subject}" does not match the trusted identities of trust policy statement "${statement.name}"`,
        );
      } else {
        authenticated = true;
        // each certificate is issued by the next (checkIntegrity), so everything below the highest
        // trusted certificate is vouched for by it; anything above it could be anyone's
        for (let i = chain.length - 1; i >= 0; i--) {
          if (anchorHashes.has((chain[i] as ParsedCertificate).sha256)) {
            anchored = i + 1;
            break;
          }
        }
      }
    }

    // Expiry: "a signature is expired when the current time is >= expiry".
    const expiry = envelope.signed.expiry;
    if (expiry && now.getTime() >= expiry.getTime())
      fail('expiry', 'expired', `digital signature has expired on "${utc(expiry)}"`);

    checkAuthenticTimestamp(envelope, chain, trust, statement, now, details, fail);

    if (statement.actions.revocation === 'skip')
      return { verified: true, logged, details: withLogged(details, logged) };
    // The revocation URLs come from the certificates; only a chain anchored in a trust store may make
    // vouch contact them (an untrusted chain, accepted because authenticity is `log`, could name any
    // URL: a server-side request forgery). Its revocation status is unknown; a chain naming no
    // responder has nothing to check (as when it is trusted).
    if (!authenticated && chain.some((c) => c.ocspUrls.length > 0 || c.crlUrls.length > 0)) {
      fail(
        'revocation',
        'revocation-unknown',
        `revocation was not checked: the certificate chain of "${leaf.subject}" is not trusted, so the OCSP and CRL addresses it names are not contacted`,
      );
      return { verified: true, logged, details: withLogged(details, logged) };
    }
    const result: NotationResult = { verified: true, logged, details: withLogged(details, logged) };
    return {
      ...result,
      revocationPending: {
        chain: envelope.certificateChain,
        anchored,
        action: statement.actions.revocation,
        ...(envelope.signed.authenticSigningTime
          ? { signingTime: envelope.signed.authenticSigningTime }
          : {}),
      },
    };
  } catch (err) {
    if (err instanceof Stop)
      return { verified: false, failure: err.failure, logged, details: withLogged(details, logged) };
    if (err instanceof EnvelopeError) {
      return {
        verified: false,
        failure: { check: 'integrity', code: err.kind, message: err.message },
        logged,
        details: withLogged(details, logged),
      };
    }
    throw err;
  }
}

function withLogged(
  details: Record<string, unknown>,
  logged: readonly NotationFailure[],
): Record<string, unknown> {
  return logged.length === 0
    ? details
    : {
        ...details,
        loggedFailures: logged.map((f) => ({ check: f.check, reason: f.code, message: f.message })),
      };
}

function parseEnvelope(bytes: Uint8Array, mediaType: string): ParsedEnvelope {
  if (bytes.byteLength > MAX_ENVELOPE_BYTES)
    throw new EnvelopeError(
      'malformed',
      `the signature envelope is ${bytes.byteLength} bytes, more than the ${MAX_ENVELOPE_BYTES} allowed`,
    );
  if (mediaType === JWS_MEDIA_TYPE) return parseJwsEnvelope(bytes);
  if (mediaType === COSE_MEDIA_TYPE) return parseCoseEnvelope(bytes);
  throw new EnvelopeError(
    'unsupported',
    `signature envelope media type "${mediaType}" is not supported (${JWS_MEDIA_TYPE} or ${COSE_MEDIA_TYPE})`,
  );
}

function parseChain(envelope: ParsedEnvelope): ParsedCertificate[] {
  return envelope.certificateChain.map((der, i) => {
    try {
      return parseCertificate(der);
    } catch (err) {
      throw new EnvelopeError(
        'malformed',
        `certificate ${i} of the chain does not parse: ${(err as Error).message}`,
      );
    }
  });
}

/** Integrity: specs/trust-store-trust-policy.md "Validate Integrity" (always enforced). */
function checkIntegrity(
  envelope: ParsedEnvelope,
  chain: ParsedCertificate[],
  subject: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>,
): void {
  const s = envelope.signed;
  const stop = (code: NotationFailureCode, message: string): never => {
    throw new Stop({ check: 'integrity', code, message });
  };
  if (s.verificationPlugin !== undefined)
    stop(
      'unsupported',
      `verification plugins are not supported (the signature requires plugin "${s.verificationPlugin}")`,
    );
  const unknown = s.critical.filter((c) => !UNDERSTOOD_CRITICAL.has(c));
  if (unknown.length > 0)
    stop(
      'unsupported',
      `the signature has critical headers vouch does not understand: ${unknown.join(', ')}`,
    );
  if (s.contentType !== PAYLOAD_CONTENT_TYPE)
    stop(
      'unsupported',
      `payload content type "${s.contentType}" is not supported (want ${PAYLOAD_CONTENT_TYPE})`,
    );
  const chainProblem = validateCertificateChain(chain, 'codeSigning');
  if (chainProblem) stop('integrity', `signature is invalid: certificate chain is invalid: ${chainProblem}`);
  const leaf = chain[0] as ParsedCertificate;
  const alg = algorithmForCertificate(leaf);
  if (typeof alg !== 'string') stop('unsupported', alg.error);
  if (alg !== s.alg)
    stop(
      'integrity',
      `signature is invalid: algorithm ${s.alg} does not match the signing certificate's key (${String(alg)})`,
    );
  if (!verifySignature(s.alg, leaf.publicKey, envelope.signingInput, envelope.signature)) {
    stop('integrity', 'signature is invalid: the signature does not verify with the signing certificate');
  }
  let payload: unknown;
  try {
    payload = JSON.parse(utf8.decode(envelope.payload));
  } catch {
    stop('malformed', 'the signed payload is not JSON');
  }
  const target = (payload as { targetArtifact?: unknown } | null)?.targetArtifact as
    | Record<string, unknown>
    | undefined;
  if (
    typeof target !== 'object' ||
    target === null ||
    typeof target.mediaType !== 'string' ||
    typeof target.digest !== 'string' ||
    typeof target.size !== 'number'
  ) {
    stop('malformed', 'the signed payload has no targetArtifact descriptor with mediaType, digest and size');
  }
  const t = target as { mediaType: string; digest: string; size: number };
  if (t.digest !== subject.digest || t.size !== subject.size || t.mediaType !== subject.mediaType) {
    stop(
      'digest-mismatch',
      `the signature is for another artifact: payload names ${t.mediaType} ${t.digest} (${t.size} bytes), the subject is ${subject.mediaType} ${subject.digest} (${subject.size} bytes)`,
    );
  }
}

/** Authentic timestamp: specs/trust-store-trust-policy.md "Validate Authentic Timestamp". */
function checkAuthenticTimestamp(
  envelope: ParsedEnvelope,
  chain: readonly ParsedCertificate[],
  trust: NotationTrust,
  statement: TrustPolicyStatement,
  now: Date,
  details: Record<string, unknown>,
  fail: (check: VerificationCheck, code: NotationFailureCode, message: string) => undefined,
): undefined {
  if (statement.actions.authenticTimestamp === 'skip') return;
  const withinValidity = (at: Date, what: string): undefined => {
    for (const cert of chain) {
      if (at < cert.notBefore) {
        return fail(
          'authenticTimestamp',
          'cert-not-yet-valid',
          `${what} is before certificate "${cert.subject}" validity period, it will be valid from "${utc(cert.notBefore)}"`,
        );
      }
      if (at > cert.notAfter) {
        return fail(
          'authenticTimestamp',
          'cert-expired',
          `the signature's certificate chain contains an expired certificate: ${what} is after certificate "${cert.subject}" validity period, it was expired at "${utc(cert.notAfter)}"`,
        );
      }
    }
  };
  if (envelope.signed.signingScheme === 'notary.x509.signingAuthority') {
    withinValidity(envelope.signed.authenticSigningTime as Date, 'authentic signing time');
    return;
  }
  const tsaRoots = storesOf(trust, statement, 'tsa').certificates;
  const tsaConfigured = statement.trustStores.some((s) => s.type === 'tsa');
  const chainExpired = chain.some((c) => now > c.notAfter);
  if (!tsaConfigured || (statement.verifyTimestamp === 'afterCertExpiry' && !chainExpired)) {
    withinValidity(now, 'verification time');
    return;
  }
  if (!envelope.timestampToken || envelope.timestampToken.length === 0) {
    return fail(
      'authenticTimestamp',
      'timestamp',
      'no timestamp countersignature was found in the signature envelope',
    );
  }
  let ts: ReturnType<typeof verifyTimestampToken>;
  try {
    ts = verifyTimestampToken(envelope.timestampToken, envelope.signature, tsaRoots);
  } catch (err) {
    if (err instanceof TimestampError) return fail('authenticTimestamp', 'timestamp', err.message);
    return fail(
      'authenticTimestamp',
      'timestamp',
      `failed to verify the timestamp countersignature: ${(err as Error).message}`,
    );
  }
  details.timestamp = ts.genTime.toISOString();
  details.timestampAuthority = ts.tsaChain[0]?.subject;
  for (const cert of chain) {
    if (ts.lower < cert.notBefore) {
      return fail(
        'authenticTimestamp',
        'timestamp',
        `timestamp can be before certificate "${cert.subject}" validity period, it will be valid from "${utc(cert.notBefore)}"`,
      );
    }
    if (ts.upper > cert.notAfter) {
      return fail(
        'authenticTimestamp',
        'timestamp',
        `timestamp can be after certificate "${cert.subject}" validity period, it was expired at "${utc(cert.notAfter)}"`,
      );
    }
  }
}
