/**
 * Revocation of a signing chain, per specs/trust-store-trust-policy.md "Certificate Revocation
 * Evaluation": for each certificate with OCSP or CRL information, OCSP first and CRL as fallback;
 * a certificate with neither is not revoked. Results are cached (ctx.cache) by certificate and issuer;
 * "unknown" is never cached. Network access goes through an injectable fetcher with a size limit and
 * the policy's per-request timeout.
 *
 * The OCSP and CRL addresses come from certificates the signer supplied, so (docs/security.md,
 * egress): only certificates at or below the trust anchor are checked (`anchored`), and the default
 * fetcher contacts public addresses only (src/net/egress.ts) unless `allowPrivateNetwork` is set.
 */
import * as pkijs from 'pkijs';
import { fetch as undiciFetch } from 'undici';
import type { Cache } from '../../cache/types.js';
import { isVouchError } from '../../errors.js';
import { checkEgressUrl, egressAgent, egressLookupError } from '../../net/egress.js';
import { type ParsedCertificate, parseCertificate } from '../../trust/notation/certificate.js';

export interface RevocationRequest {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly body?: Uint8Array;
  readonly contentType?: string;
  readonly maxBytes: number;
  readonly signal: AbortSignal;
}
export type RevocationFetcher = (request: RevocationRequest) => Promise<Uint8Array>;

export interface RevocationStatus {
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly message: string;
}

const MAX_OCSP_BYTES = 64 * 1024;
const MAX_CRL_BYTES = 10 * 1024 * 1024;
const GOOD_TTL_MS = 60 * 60 * 1000;
const REVOKED_TTL_MS = 24 * 60 * 60 * 1000;

/** The dispatcher of the guarded fetcher: public addresses only, checked at connect time. */
let publicAgent: ReturnType<typeof egressAgent> | undefined;

/**
 * HTTP(S) fetch with a byte limit and no redirects. Unless `allowPrivateNetwork`, a URL naming a
 * loopback, private or link-local address (or resolving to one) is refused before any connection.
 */
export function createHttpRevocationFetcher(options: { allowPrivateNetwork: boolean }): RevocationFetcher {
  return async (request) => {
    const url = new URL(request.url);
    checkEgressUrl(url, {
      allowPrivateNetwork: options.allowPrivateNetwork,
      schemes: ['http:', 'https:'],
      what: 'the revocation address',
    });
    publicAgent ??= egressAgent({ connections: 16 });
    let res: Response;
    try {
      res = (await undiciFetch(request.url, {
        method: request.method,
        redirect: 'error',
        signal: request.signal,
        ...(options.allowPrivateNetwork ? {} : { dispatcher: publicAgent }),
        ...(request.body
          ? {
              body: request.body,
              headers: { 'content-type': request.contentType ?? 'application/octet-stream' },
            }
          : {}),
      })) as unknown as Response;
    } catch (err) {
      const refused = egressLookupError(err);
      if (refused)
        throw new Error(`${refused.message}; refused (allowPrivateNetwork is off)`, { cause: err });
      throw err;
    }
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} from ${request.url}`);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of res.body) {
      total += chunk.byteLength;
      if (total > request.maxBytes)
        throw new Error(`response from ${request.url} is larger than ${request.maxBytes} bytes`);
      chunks.push(chunk);
    }
    return new Uint8Array(Buffer.concat(chunks));
  };
}

/** The default fetcher: public addresses only. */
export const httpRevocationFetcher: RevocationFetcher = createHttpRevocationFetcher({
  allowPrivateNetwork: false,
});

interface CheckOptions {
  readonly cache: Cache;
  readonly signal: AbortSignal;
  readonly now: Date;
  readonly timeoutMs: number;
  /** Certificates from the leaf that are anchored in a trust store; only they are checked. */
  readonly anchored: number;
  readonly fetch?: RevocationFetcher;
}

/**
 * Checks the anchored certificates of a chain (DER, leaf first): `options.anchored` of them, from
 * the leaf. The first revoked or unknown certificate decides. A certificate above the anchor is not
 * checked: the signer supplied it, and the trust decision does not rest on it.
 */
export async function checkChainRevocation(
  chainDer: readonly Uint8Array[],
  options: CheckOptions,
): Promise<RevocationStatus> {
  const chain = chainDer.map(parseCertificate);
  for (let i = Math.min(options.anchored, chain.length) - 1; i >= 0; i--) {
    const cert = chain[i] as ParsedCertificate;
    const issuer = chain[i + 1] ?? cert;
    if (cert.ocspUrls.length === 0 && cert.crlUrls.length === 0) continue;
    const status = await options.cache.getOrCompute<RevocationStatus>(
      `notation:revocation:${cert.sha256}:${issuer.sha256}`,
      (s) => (s.status === 'good' ? GOOD_TTL_MS : s.status === 'revoked' ? REVOKED_TTL_MS : 0),
      () => checkCertificate(cert, issuer, options),
    );
    if (status.status !== 'good') return status;
  }
  return { status: 'good', message: 'no certificate of the chain is revoked' };
}

/** Only http(s) responders are contacted (RFC 5280 4.2.2.1 / 4.2.1.13 name http; ldap and others are ignored). */
const isHttpUrl = (url: string): boolean => url.startsWith('http://') || url.startsWith('https://');

const describe = (err: unknown): string =>
  isVouchError(err, 'EGRESS_REFUSED') ? `${err.message} [${err.code}]` : (err as Error).message;

async function checkCertificate(
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
  options: CheckOptions,
): Promise<RevocationStatus> {
  const fetcher = options.fetch ?? httpRevocationFetcher;
  const problems: string[] = [];
  const deadline = () => AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  for (const url of cert.ocspUrls) {
    if (!isHttpUrl(url)) continue;
    try {
      const result = await checkOcsp(cert, issuer, url, fetcher, deadline(), options.now);
      if (result) return result;
    } catch (err) {
      problems.push(`OCSP ${url}: ${describe(err)}`);
    }
  }
  for (const url of cert.crlUrls) {
    if (!isHttpUrl(url)) continue;
    try {
      return await checkCrl(cert, issuer, url, fetcher, deadline(), options.now);
    } catch (err) {
      problems.push(`CRL ${url}: ${describe(err)}`);
    }
  }
  return {
    status: 'unknown',
    message: `signing certificate with subject "${cert.subject}" revocation status is unknown${problems.length ? `: ${problems.join('; ')}` : ''}`,
  };
}

async function checkOcsp(
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
  url: string,
  fetcher: RevocationFetcher,
  signal: AbortSignal,
  now: Date,
): Promise<RevocationStatus | undefined> {
  const request = new pkijs.OCSPRequest();
  await request.createForCertificate(cert.pkijs, { hashAlgorithm: 'SHA-1', issuerCertificate: issuer.pkijs });
  const body = new Uint8Array(request.toSchema(true).toBER());
  const bytes = await fetcher({
    url,
    method: 'POST',
    body,
    contentType: 'application/ocsp-request',
    maxBytes: MAX_OCSP_BYTES,
    signal,
  });
  const response = pkijs.OCSPResponse.fromBER(bytes);
  if (response.responseStatus.valueBlock.valueDec !== 0 || !response.responseBytes) {
    throw new Error(`OCSP responder status ${response.responseStatus.valueBlock.valueDec}`);
  }
  const basic = pkijs.BasicOCSPResponse.fromBER(response.responseBytes.response.valueBlock.valueHexView);
  if (!(await basic.verify({ trustedCerts: [issuer.pkijs] })))
    throw new Error('the OCSP response signature does not verify');
  const single = basic.tbsResponseData.responses.find(
    (r) =>
      Buffer.from(r.certID.serialNumber.valueBlock.valueHexView).toString('hex') === cert.serialNumberHex,
  );
  if (!single) throw new Error('the OCSP response does not cover the certificate');
  if (single.nextUpdate && single.nextUpdate < now) throw new Error('the OCSP response has expired');
  const status = await basic.getCertificateStatus(cert.pkijs, issuer.pkijs);
  if (!status.isForCertificate) throw new Error('the OCSP response does not cover the certificate');
  if (status.status === 0) return { status: 'good', message: `certificate "${cert.subject}" is good (OCSP)` };
  if (status.status === 1)
    return {
      status: 'revoked',
      message: `signing certificate with subject "${cert.subject}" is revoked (OCSP)`,
    };
  return undefined;
}

async function checkCrl(
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
  url: string,
  fetcher: RevocationFetcher,
  signal: AbortSignal,
  now: Date,
): Promise<RevocationStatus> {
  const bytes = await fetcher({ url, method: 'GET', maxBytes: MAX_CRL_BYTES, signal });
  const crl = pkijs.CertificateRevocationList.fromBER(bytes);
  if (!(await crl.verify({ issuerCertificate: issuer.pkijs })))
    throw new Error('the CRL signature does not verify with the issuer');
  const listed = crl.isCertificateRevoked(cert.pkijs);
  if (listed)
    return {
      status: 'revoked',
      message: `signing certificate with subject "${cert.subject}" is revoked (CRL ${url})`,
    };
  if (crl.nextUpdate && crl.nextUpdate.value < now) throw new Error('the CRL has expired');
  return { status: 'good', message: `certificate "${cert.subject}" is not on the CRL` };
}
