/**
 * Mock Fulcio, Rekor and timestamp authority from `@sigstore/mock`, served over real HTTP on
 * loopback. The package only offers nock interceptors (`mockFulcio` & co.), which patch Node's
 * http module and never open a socket; vouch signs through real HTTP clients, so this file
 * starts one node:http server and routes POSTs to the package's own handlers (`fulcioHandler`,
 * `rekorHandler`, `tsaHandler`): the certificates, SCTs, SETs and timestamps are the mock's.
 *
 * Clocks: the mock CA, CT log, Rekor log and TSA read a `Date` object given at init; this helper
 * owns those objects and sets them before each request to "now + offset", so a test can issue a
 * certificate in the past (Fulcio offset) that Rekor then logs now — a certificate used outside
 * its validity window.
 *
 * `trustedRootJson()` is a sigstore trusted_root.json naming this instance's keys and certs.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  fulcioHandler,
  type HandlerFn,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
} from '@sigstore/mock';

const MAX_REQUEST_BYTES = 1024 * 1024;

export interface SigstoreMock {
  readonly fulcioUrl: string;
  readonly rekorUrl: string;
  readonly tsaUrl: string;
  /** POST paths served, in order (e.g. `/api/v2/signingCert`). */
  readonly requests: readonly string[];
  /** Shifts the time the CA and CT log issue at (ms relative to now; 0 = real time). */
  setFulcioClockOffset(ms: number): void;
  /** Shifts the Rekor integrated time (ms relative to now). */
  setRekorClockOffset(ms: number): void;
  /** A sigstore trusted_root.json (media type v0.1) trusting this instance's CA, logs and TSA. */
  trustedRootJson(): string;
  stop(): Promise<void>;
}

/** An unsigned OIDC identity token (`alg: none`); the mock Fulcio reads its claims, unverified. */
export function identityToken(claims: { sub: string; iss: string } & Record<string, string>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ aud: 'sigstore', iat: now, exp: now + 600, ...claims })}.`;
}

const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) throw new Error('request too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the three services on one loopback port (paths do not collide). */
export async function startSigstoreMock(): Promise<SigstoreMock> {
  const routes = new Map<string, HandlerFn>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const handler = req.method === 'POST' ? routes.get(req.url ?? '') : undefined;
    if (!handler) {
      res.writeHead(404).end();
      return;
    }
    requests.push(req.url ?? '');
    readBody(req)
      .then((body) => {
        syncClocks();
        return handler(body);
      })
      .then((r) => {
        res.writeHead(r.statusCode, { 'content-type': r.contentType ?? 'text/plain' });
        res.end(typeof r.response === 'string' ? r.response : Buffer.from(r.response.buffer));
      })
      .catch((err: unknown) => {
        res.writeHead(500).end(String(err));
      });
  });
  // Outlive the clients' keep-alive pools between tests, so a reused socket is not closed under them.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fulcioClock = new Date();
  const rekorClock = new Date();
  // Whole seconds: the mock TSA writes milliseconds into genTime as a GeneralizedTime fraction
  // with trailing zeros dropped (".12Z"), which @sigstore/core's time parser (3 digits) rejects.
  const tsaClock = new Date();
  let fulcioOffset = 0;
  let rekorOffset = 0;
  const syncClocks = () => {
    fulcioClock.setTime(Date.now() + fulcioOffset);
    rekorClock.setTime(Date.now() + rekorOffset);
    tsaClock.setTime(Math.floor((Date.now() + rekorOffset) / 1000) * 1000);
  };

  const ctKeys = keyPair();
  const tlogKeys = keyPair();
  const ctLog = await initializeCTLog(ctKeys, fulcioClock);
  const ca = await initializeCA(keyPair(), ctLog, fulcioClock);
  const tlog = await initializeTLog(base, tlogKeys, rekorClock);
  const tsa = await initializeTSA(keyPair(), tsaClock);
  for (const h of [fulcioHandler(ca), rekorHandler(tlog), tsaHandler(tsa)]) routes.set(h.path, h.fn);

  const start = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
  const b64 = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  const logEntry = (spki: Buffer, logId: Buffer, url: string) => ({
    baseUrl: url,
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      rawBytes: spki.toString('base64'),
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
      validFor: { start },
    },
    logId: { keyId: logId.toString('base64') },
  });
  const tlogSpki = tlogKeys.publicKey.export({ format: 'der', type: 'spki' });
  const root = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [logEntry(tlogSpki, createHash('sha256').update(tlogSpki).digest(), base)],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: base,
        certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
        validFor: { start },
      },
    ],
    ctlogs: [logEntry(ctLog.publicKey, Buffer.from(b64(ctLog.logID), 'base64'), base)],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore-tsa' },
        uri: base,
        certChain: {
          certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }],
        },
        validFor: { start },
      },
    ],
  };

  return {
    fulcioUrl: base,
    rekorUrl: base,
    tsaUrl: base,
    requests,
    setFulcioClockOffset(ms) {
      fulcioOffset = ms;
    },
    setRekorClockOffset(ms) {
      rekorOffset = ms;
    },
    trustedRootJson: () => JSON.stringify(root, null, 2),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
