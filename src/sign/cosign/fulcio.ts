/**
 * A keyless signer for `@sigstore/sign`'s bundle builders: an ephemeral ECDSA P-256 key (held in
 * memory for one signing only) certified by Fulcio for the caller's OIDC identity token.
 *
 * Why not `@sigstore/sign`'s FulcioSigner: it keeps only the leaf certificate, while cosign's
 * legacy `.sig` layers also carry the issuing chain (`dev.sigstore.cosign/chain`). This signer
 * speaks the same Fulcio API (fulcio `api/v2` `POST /api/v2/signingCert`, a public key request
 * with a proof of possession: the key's signature over the token subject) and keeps the chain.
 * The request has a deadline and the response a size limit.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import type { Signature, Signer } from '@sigstore/sign';
import { fetch } from 'undici';
import { z } from 'zod';
import { VouchError } from '../../errors.js';

/** Largest Fulcio response read (a leaf plus a few CA certificates). */
export const MAX_FULCIO_RESPONSE_BYTES = 256 * 1024;

const chainSchema = z.object({ certificates: z.array(z.string().min(1)).min(1) });
const responseSchema = z.union([
  z.object({ signedCertificateEmbeddedSct: z.object({ chain: chainSchema }) }),
  z.object({ signedCertificateDetachedSct: z.object({ chain: chainSchema }) }),
]);

export interface FulcioSignerOptions {
  readonly fulcioUrl: string;
  readonly identityToken: string;
  readonly signal: AbortSignal;
}

/**
 * The subject Fulcio binds (and the proof of possession signs), as sigstore clients pick it: the
 * verified `email` claim, else `sub`.
 */
export function tokenSubject(token: string): string {
  const part = token.split('.')[1];
  let claims: { email?: unknown; email_verified?: unknown; sub?: unknown };
  try {
    claims = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as typeof claims;
  } catch {
    throw new VouchError('USAGE', 'the identity token is not a JWT (header.payload.signature)');
  }
  if (typeof claims.email === 'string') {
    if (claims.email_verified !== true)
      throw new VouchError('USAGE', 'the identity token email is not verified by its issuer');
    return claims.email;
  }
  if (typeof claims.sub === 'string' && claims.sub.length > 0) return claims.sub;
  throw new VouchError('USAGE', 'the identity token has neither an email nor a sub claim');
}

/** Re-encodes a PEM (or DER) certificate as PEM with 64-character lines, as Go's pem package does. */
export function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function pemToDer(pem: string): Buffer {
  const body = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+=*$/.test(body))
    throw new VouchError('SIGNING_FAILED', 'Fulcio returned a certificate that is not PEM');
  return Buffer.from(body, 'base64');
}

/** An ephemeral-key signer certified by Fulcio; `chainPem` is set after the first `sign`. */
export class FulcioChainSigner implements Signer {
  readonly #options: FulcioSignerOptions;
  readonly #key: { privateKey: KeyObject; publicKey: KeyObject };
  #chain: string[] = [];

  constructor(options: FulcioSignerOptions) {
    this.#options = options;
    this.#key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  }

  /** Leaf first, each certificate PEM-encoded (empty before the first signature). */
  get chainPem(): readonly string[] {
    return this.#chain;
  }

  async sign(data: Buffer): Promise<Signature> {
    if (this.#chain.length === 0) this.#chain = await this.#requestCertificate();
    return {
      signature: sign('sha256', data, this.#key.privateKey),
      key: { $case: 'x509Certificate', certificate: this.#chain[0] as string },
    };
  }

  async #requestCertificate(): Promise<string[]> {
    const { fulcioUrl, identityToken, signal } = this.#options;
    const subject = tokenSubject(identityToken);
    const publicKey = this.#key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const request = {
      credentials: { oidcIdentityToken: identityToken },
      publicKeyRequest: {
        publicKey: { algorithm: 'ECDSA', content: publicKey },
        proofOfPossession: sign('sha256', Buffer.from(subject), this.#key.privateKey).toString('base64'),
      },
    };
    const url = new URL('api/v2/signingCert', fulcioUrl.endsWith('/') ? fulcioUrl : `${fulcioUrl}/`);
    let status: number;
    let text: string;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(request),
        signal,
        redirect: 'error',
      });
      status = res.status;
      text = await readLimited(res.body, MAX_FULCIO_RESPONSE_BYTES);
    } catch (err) {
      if (err instanceof VouchError) throw err;
      throw new VouchError('SIGNING_FAILED', `Fulcio at ${url.origin} is unreachable or too slow`, {
        cause: err,
      });
    }
    if (status < 200 || status >= 300) {
      throw new VouchError(
        'SIGNING_FAILED',
        `Fulcio refused the certificate request (HTTP ${status}): ${text.slice(0, 200)}`,
      );
    }
    let parsed: z.infer<typeof responseSchema>;
    try {
      parsed = responseSchema.parse(JSON.parse(text));
    } catch (err) {
      throw new VouchError('SIGNING_FAILED', 'Fulcio answered with no certificate chain', { cause: err });
    }
    const chain =
      'signedCertificateEmbeddedSct' in parsed
        ? parsed.signedCertificateEmbeddedSct.chain
        : parsed.signedCertificateDetachedSct.chain;
    return chain.certificates.map((c) => toPem(pemToDer(c)));
  }
}

async function readLimited(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (!body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      throw new VouchError('SIGNING_FAILED', `the Fulcio response is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
