/**
 * The keyless signer's edges: identity token parsing, service URL rules, and Fulcio / Rekor
 * failures. Fulcio and Rekor are `@sigstore/mock` on loopback; the oversized and chainless Fulcio
 * answers come from a fault server (a real Fulcio never sends them).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isVouchError } from '../../../src/errors.js';
import { MediaType, type Repository } from '../../../src/registry/types.js';
import { FulcioChainSigner, tokenSubject } from '../../../src/sign/cosign/fulcio.js';
import { checkServiceUrl, signCosignKeyless } from '../../../src/sign/cosign/keyless.js';
import { identityToken, type SigstoreMock, startSigstoreMock } from '../../helpers/sigstore-mock.js';

const jwt = (claims: Record<string, unknown>) =>
  `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;

/** Fault server: answers every POST with `body`. */
async function faultServer(body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(201, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** A closed loopback port: listen, note the port, close. */
async function closedPort(): Promise<string> {
  const { url, server } = await faultServer('');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}

describe('keyless signing edges', { timeout: 30_000 }, () => {
  let sigstore: SigstoreMock;
  before(async () => {
    sigstore = await startSigstoreMock();
  });
  after(async () => {
    await sigstore?.stop();
  });

  describe('tokenSubject', () => {
    it('uses a verified email, else sub', () => {
      assert.equal(tokenSubject(jwt({ email: 'a@b.c', email_verified: true, sub: '1' })), 'a@b.c');
      assert.equal(tokenSubject(jwt({ sub: 'repo:acme/app' })), 'repo:acme/app');
    });
    it('refuses an unverified email, a token without subject, and a non-JWT', () => {
      assert.throws(() => tokenSubject(jwt({ email: 'a@b.c' })), /not verified/);
      assert.throws(() => tokenSubject(jwt({ iss: 'x' })), /neither an email nor a sub/);
      assert.throws(
        () => tokenSubject('not a token'),
        (e) => isVouchError(e, 'USAGE'),
      );
    });
  });

  describe('checkServiceUrl', () => {
    it('accepts https and loopback http, refuses other http and non-URLs', () => {
      assert.equal(checkServiceUrl('https://fulcio.example/', '--fulcio-url'), 'https://fulcio.example');
      assert.equal(checkServiceUrl('http://127.0.0.1:8080', '--rekor-url'), 'http://127.0.0.1:8080');
      assert.throws(
        () => checkServiceUrl('http://fulcio.example', '--fulcio-url'),
        /--fulcio-url must be an https URL/,
      );
      assert.throws(() => checkServiceUrl('fulcio', '--fulcio-url'), /is not a URL/);
    });
  });

  describe('FulcioChainSigner', () => {
    it('returns the leaf as the signing key and keeps the chain', async () => {
      const signer = new FulcioChainSigner({
        fulcioUrl: sigstore.fulcioUrl,
        identityToken: identityToken({ sub: 'me', iss: 'https://issuer.example' }),
        signal: AbortSignal.timeout(10_000),
      });
      const sig = await signer.sign(Buffer.from('data'));
      assert.equal(sig.key.$case, 'x509Certificate');
      assert.equal(signer.chainPem.length, 2);
      assert.equal(sig.key.$case === 'x509Certificate' ? sig.key.certificate : '', signer.chainPem[0]);
    });

    it('fails with SIGNING_FAILED when Fulcio is unreachable', async () => {
      const signer = new FulcioChainSigner({
        fulcioUrl: await closedPort(),
        identityToken: jwt({ sub: 'me' }),
        signal: AbortSignal.timeout(10_000),
      });
      await assert.rejects(
        signer.sign(Buffer.from('x')),
        (e) => isVouchError(e, 'SIGNING_FAILED') && /unreachable/.test(e.message),
      );
    });

    it('fails when Fulcio answers without a chain, or with more than the size limit', async () => {
      for (const [body, why] of [
        ['{"signedCertificateEmbeddedSct":{"chain":{"certificates":[]}}}', /no certificate chain/],
        [`{"x":"${'a'.repeat(300 * 1024)}"}`, /larger than/],
      ] as const) {
        const fault = await faultServer(body);
        try {
          const signer = new FulcioChainSigner({
            fulcioUrl: fault.url,
            identityToken: jwt({ sub: 'me' }),
            signal: AbortSignal.timeout(10_000),
          });
          await assert.rejects(
            signer.sign(Buffer.from('x')),
            (e) => isVouchError(e, 'SIGNING_FAILED') && why.test(e.message),
          );
        } finally {
          fault.server.close();
        }
      }
    });
  });

  it('fails with SIGNING_FAILED naming the log when Rekor is unreachable, pushing nothing', async () => {
    const pushed: string[] = [];
    const repository = {
      pushBlob: async () => {
        pushed.push('blob');
        throw new Error('must not push');
      },
      pushManifest: async () => {
        pushed.push('manifest');
        throw new Error('must not push');
      },
    } as unknown as Repository;
    await assert.rejects(
      signCosignKeyless({
        repository,
        subject: { mediaType: MediaType.OciManifest, digest: `sha256:${'1'.repeat(64)}`, size: 2 },
        subjectReference: 'registry.test/app',
        identityToken: identityToken({ sub: 'me', iss: 'https://issuer.example' }),
        fulcioUrl: sigstore.fulcioUrl,
        rekorUrl: await closedPort(),
        mode: 'tag',
      }),
      (e) => isVouchError(e, 'SIGNING_FAILED') && /tlog/.test(e.message),
    );
    assert.deepEqual(pushed, []);
  });
});
