/**
 * The signer's RFC 3161 client (`--timestamp-url`, src/sign/notation/tsa.ts) against a real TSA on
 * loopback (`openssl ts -reply`, test/helpers/tsa.ts), and the verifier's use of the tokens it gets:
 * a signature whose signing certificate has expired still verifies when its timestamp falls inside
 * the certificate's validity.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { VouchError } from '../../../src/errors.js';
import { createNotationEnvelope } from '../../../src/sign/notation/index.js';
import { generateTestCertificate, type TestCertificate } from '../../../src/sign/notation/testcert.js';
import { requestTimestamp, timestampNonce } from '../../../src/sign/notation/tsa.js';
import { parseCertificate, readCertificates } from '../../../src/trust/notation/certificate.js';
import { verifyNotationEnvelope } from '../../../src/verifiers/notation/core.js';
import { parseJwsEnvelope } from '../../../src/verifiers/notation/jws.js';
import { verifyTimestampToken } from '../../../src/verifiers/notation/timestamp.js';
import { startTsa, type TestTsa } from '../../helpers/tsa.js';
import { SUBJECT, trustFor } from '../../verifiers/notation/fixtures.js';

const HOUR = 3_600_000;
const pemToDer = (pem: string) => readCertificates(new TextEncoder().encode(pem))[0] as Uint8Array;

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('RFC 3161 timestamps from a real TSA (openssl ts)', { timeout: 60_000 }, () => {
  let tsa: TestTsa;
  let strictTsa: TestTsa;
  let shortLived: TestCertificate;

  before(async () => {
    [tsa, strictTsa] = await Promise.all([startTsa(), startTsa({ digests: ['sha512'] })]);
    const notBefore = new Date(Date.now() - 60_000);
    shortLived = await generateTestCertificate({
      name: 'short-lived.example',
      notBefore,
      notAfter: new Date(notBefore.getTime() + HOUR),
    });
  });
  after(async () => {
    await tsa?.stop();
    await strictTsa?.stop();
  });

  it('gets a token whose imprint is the SHA-256 of the signature, signed by the TSA', async () => {
    const signature = new TextEncoder().encode('a primitive signature');
    const before = Date.now();
    const token = await requestTimestamp(tsa.url, signature);
    const root = parseCertificate(pemToDer(tsa.rootPem));
    const ts = verifyTimestampToken(token, signature, [root]);
    assert.ok(Math.abs(ts.genTime.getTime() - before) < 60_000, `genTime ${ts.genTime.toISOString()} is now`);
    assert.equal(ts.upper.getTime() - ts.genTime.getTime(), 1000, 'accuracy secs:1 widens the range');
    assert.match(ts.tsaChain[0]?.subject ?? '', /CN=vouch test TSA/);
    assert.equal(ts.tsaChain.at(-1)?.sha256, root.sha256);
    // The token is bound to this signature: any other bytes are a mismatch.
    assert.throws(
      () => verifyTimestampToken(token, createHash('sha256').update('other').digest(), [root]),
      /mismatched message/,
    );
    // And to the TSA root: a different root does not anchor it.
    const other = parseCertificate(pemToDer(strictTsa.rootPem));
    assert.throws(() => verifyTimestampToken(token, signature, [other]), /unknown authority/);
  });

  it('reports a refusal (PKIStatus rejection) when the TSA does not accept the imprint digest', async () => {
    await assert.rejects(
      requestTimestamp(strictTsa.url, new Uint8Array([1, 2, 3])),
      (err: unknown) =>
        err instanceof VouchError &&
        err.code === 'SIGNING_FAILED' &&
        /refused the request \(PKIStatus 2\)/.test(err.message),
    );
  });

  it('fails with a named error for an unreachable TSA and a non-http URL', async () => {
    const port = await closedPort();
    await assert.rejects(
      requestTimestamp(`http://127.0.0.1:${port}/`, new Uint8Array([1])),
      (err: unknown) => {
        return err instanceof VouchError && err.code === 'SIGNING_FAILED' && /unreachable/.test(err.message);
      },
    );
    await assert.rejects(requestTimestamp('ftp://127.0.0.1/', new Uint8Array([1])), (err: unknown) => {
      return err instanceof VouchError && err.code === 'USAGE';
    });
  });

  it('refuses an endless chunked answer while reading it (a hand-written fake: no real TSA streams forever)', async () => {
    let sent = 0;
    const server = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/timestamp-reply' }); // no content-length
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (sent < 64 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (sent < 64 * 1024 * 1024) res.once('drain', pump);
        else res.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await assert.rejects(
        requestTimestamp(`http://127.0.0.1:${port}/`, new Uint8Array([1])),
        (err: unknown) => {
          return (
            err instanceof VouchError &&
            err.code === 'SIGNING_FAILED' &&
            /larger than 1048576 bytes/.test(err.message)
          );
        },
      );
      assert.ok(sent < 16 * 1024 * 1024, `stopped reading early (the server wrote ${sent} bytes)`);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  for (const format of ['jws', 'cose'] as const) {
    it(`a ${format} signature by an expired certificate verifies with a timestamp inside its validity`, async () => {
      const { bytes, mediaType } = await createNotationEnvelope({
        subject: SUBJECT,
        keyPem: shortLived.keyPem,
        certChainPem: shortLived.certPem,
        envelope: format,
        timestampUrl: tsa.url,
      });
      const { trust, statement } = trustFor({ ca: [shortLived.der], tsa: [pemToDer(tsa.rootPem)] });
      const later = new Date(Date.now() + 2 * HOUR);
      const stamped = verifyNotationEnvelope(bytes, mediaType, SUBJECT, trust, statement, { now: later });
      assert.equal(stamped.verified, true, stamped.failure?.message);
      assert.ok(typeof stamped.details.timestamp === 'string', 'the report names the timestamp');
      assert.match(String(stamped.details.timestampAuthority), /vouch test TSA/);

      // Without a tsa store the same signature is judged at verification time: expired.
      const noTsa = trustFor({ ca: [shortLived.der] });
      const expired = verifyNotationEnvelope(bytes, mediaType, SUBJECT, noTsa.trust, noTsa.statement, {
        now: later,
      });
      assert.equal(expired.verified, false);
      assert.equal(expired.failure?.code, 'cert-expired');
    });
  }

  it('nonces are positive minimal DER integers (no leading 0x00, no high bit), whatever the random bytes', () => {
    for (let i = 0; i < 5000; i++) {
      const first = timestampNonce()[0] ?? 0;
      assert.ok(first >= 0x01 && first <= 0x7f, `first nonce byte 0x${first.toString(16)}`);
    }
  });

  it('rejects a timestamp from a TSA the trust policy does not trust', async () => {
    const { bytes, mediaType } = await createNotationEnvelope({
      subject: SUBJECT,
      keyPem: shortLived.keyPem,
      certChainPem: shortLived.certPem,
      envelope: 'jws',
      timestampUrl: tsa.url,
    });
    assert.ok(parseJwsEnvelope(bytes).timestampToken, 'the envelope carries the token');
    const { trust, statement } = trustFor({ ca: [shortLived.der], tsa: [pemToDer(strictTsa.rootPem)] });
    const r = verifyNotationEnvelope(bytes, mediaType, SUBJECT, trust, statement, {
      now: new Date(Date.now() + 2 * HOUR),
    });
    assert.equal(r.verified, false);
    assert.equal(r.failure?.code, 'timestamp');
    assert.match(r.failure?.message ?? '', /unknown authority/);
  });
});
