/**
 * Fault: hostile clients of the server itself. Slowloris — clients that hold connections open by
 * sending a request's headers (or its body) a byte at a time and never finishing, or that open a
 * TCP connection and never complete the TLS handshake — and oversized requests: a body over
 * `limits.bodyBytes` (declared, and chunked without a length), more keys than `limits.maxKeys`,
 * headers over Node's 16 KiB limit.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { cosignConfig, createClient, createSignedImages, type SignedImages } from '../server/harness.js';
import {
  allowed,
  assertNeverAllowed,
  reportRecovery,
  sleep,
  startVouch,
  timeToRecover,
  type Verdicts,
  type VouchUnderTest,
  verify,
  watchServing,
} from './fault-harness.js';

/** Each kind of slow client opens this many connections. */
const SLOW_CONNECTIONS = 12;
/** The slow clients give up on their own after this long. */
const SLOW_FOR_MS = 20_000;
/** The server must have closed every slow connection within this (the fix: 10 s + check interval). */
const CLOSED_WITHIN_MS = 14_000;

interface SlowClient {
  /** ms from open to the server closing it, or undefined if it was still open when we gave up. */
  readonly closedAfter: Promise<number | undefined>;
}

describe('when clients send requests slowly or too large', { timeout: 60_000 }, () => {
  let registry: TestRegistry;
  let images: SignedImages;
  let vouch: VouchUnderTest;
  let tlsFiles: { ca: Buffer; cert: Buffer; key: Buffer };
  let slowIdentity: { cert: string; key: string };
  let port: number;
  let warmKey: string;
  let signedKey: string;
  let unsignedKey: string;

  before(async () => {
    registry = await startRegistry();
    images = await createSignedImages(registry.host);
    await images.push('warm', 'v1', true);
    await images.push('app', 'signed', true);
    await images.push('app', 'unsigned', false);
    warmKey = `${registry.host}/warm:v1`;
    signedKey = `${registry.host}/app:signed`;
    unsignedKey = `${registry.host}/app:unsigned`;
    vouch = await startVouch(cosignConfig([registry.host], images.publicKeyFile), {
      // the slow clients' one certificate gets exactly as many requests in flight as they open
      limits: { bodyBytes: 64 * 1024, maxKeys: 100, perClientConcurrency: SLOW_CONNECTIONS },
    });
    const client = await vouch.pki.leaf('slow-client');
    slowIdentity = client;
    tlsFiles = {
      ca: await readFile(path.join(vouch.pki.dir, 'ca.crt')),
      cert: await readFile(client.cert),
      key: await readFile(client.key),
    };
    port = Number(new URL(vouch.vouch.url).port);
  });
  after(async () => {
    await vouch?.stop();
    await images?.close();
    await registry?.stop();
  });

  /** Watches `socket` until the server closes it or SLOW_FOR_MS passes (then we close it). */
  const track = (socket: Socket, opened: number, drip?: () => string | undefined): SlowClient => ({
    closedAfter: new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const giveUp = setTimeout(() => {
        clearInterval(timer);
        socket.removeAllListeners('close');
        socket.destroy();
        resolve(undefined);
      }, SLOW_FOR_MS);
      socket.on('error', () => {});
      socket.once('close', () => {
        clearInterval(timer);
        clearTimeout(giveUp);
        resolve(performance.now() - opened);
      });
      if (drip) {
        timer = setInterval(() => {
          const next = drip();
          if (next !== undefined && socket.writable) socket.write(next);
        }, 250);
      }
    }),
  });

  /** After mTLS, sends `prefix` a byte every 250 ms (never the end of the request). */
  const slowTls = (prefix: string): SlowClient => {
    const opened = performance.now();
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...tlsFiles });
    let i = 0;
    return track(socket, opened, () =>
      socket.readyState === 'open' ? prefix[i++ % prefix.length] : undefined,
    );
  };
  /** A TCP connection that never starts the TLS handshake. */
  const silentTcp = (): SlowClient => track(netConnect(port, '127.0.0.1'), performance.now());

  it('keeps serving while slow clients hold connections, and closes them within a bound', async () => {
    const { client, vouch: server } = vouch;
    assert.ok(allowed((await verify(client, server.url, [warmKey])).items[0]));
    const watch = watchServing(client, server.url, warmKey);
    const started = performance.now();
    const headers =
      'POST /gatekeeper/v1/verify HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const body = `POST /gatekeeper/v1/verify HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: 60000\r\n\r\n{"request":{"keys":["${'a'.repeat(59_000)}`;
    const slow = {
      headers: Array.from({ length: SLOW_CONNECTIONS }, () => slowTls(headers)),
      // the headers at once, then the body byte by byte: headers complete, the request never does
      body: Array.from({ length: SLOW_CONNECTIONS }, () => {
        const opened = performance.now();
        const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...tlsFiles });
        const head = body.indexOf('\r\n\r\n') + 4;
        let i = 0;
        return track(socket, opened, () => {
          if (socket.readyState !== 'open') return undefined;
          const chunk = i === 0 ? body.slice(0, head) : body[head + i];
          i++;
          return chunk;
        });
      }),
      handshake: Array.from({ length: SLOW_CONNECTIONS }, () => silentTcp()),
    };
    // while they hang on: decisions still flow, cold ones too
    await sleep(2000);
    const cold = await verify(client, server.url, [signedKey, unsignedKey]);
    assertNeverAllowed(cold, new Set([unsignedKey]), 'under slowloris');
    assert.ok(allowed(cold.items[0]), JSON.stringify(cold.items[0]));
    // the slow bodies hold their own client's slots (per-client bound), nobody else's
    const slowOwner = await createClient(path.join(vouch.pki.dir, 'ca.crt'), slowIdentity, 1);
    const closed: Record<string, (number | undefined)[]> = {};
    let ownerDuring = 0;
    let ownerAfter: Verdicts | undefined;
    let attackEnded = 0;
    let serving: Awaited<ReturnType<ReturnType<typeof watchServing>['stop']>>;
    try {
      const during = await slowOwner.post(`${server.url}/gatekeeper/v1/verify`, { request: { keys: [] } });
      ownerDuring = during.status;
      for (const [kind, clients] of Object.entries(slow)) {
        closed[kind] = await Promise.all(clients.map((c) => c.closedAfter));
      }
      attackEnded = performance.now();
      serving = await watch.stop();
      // once they are cut off, their slots are free again
      ownerAfter = await verify(slowOwner, server.url, [warmKey]);
    } finally {
      await slowOwner.close();
    }
    const recoveryMs = await timeToRecover(attackEnded, async () => {
      const res = await verify(client, server.url, [signedKey, unsignedKey]);
      assertNeverAllowed(res, new Set([unsignedKey]), 'after slowloris');
      return allowed(res.items[0]) && res.items[1]?.value !== undefined;
    });
    const summary = (kind: string) => {
      const times = closed[kind] ?? [];
      const shut = times.filter((t): t is number => t !== undefined);
      return `${shut.length}/${times.length}closed,max${Math.round(Math.max(0, ...shut))}ms`;
    };
    reportRecovery('slowloris', {
      connections: SLOW_CONNECTIONS * 3,
      headers: summary('headers'),
      body: summary('body'),
      handshake: summary('handshake'),
      attackMs: attackEnded - started,
      coldDuringMs: cold.ms,
      slowOwnerDuring: ownerDuring,
      slowOwnerAfter: ownerAfter?.status ?? 0,
      servingRounds: serving.rounds,
      maxHealthMs: serving.maxHealthMs,
      maxWarmMs: serving.maxWarmMs,
      recoveryMs,
    });
    assert.deepEqual(serving.failures, [], 'health or warm decision failed under slowloris');
    assert.equal(ownerDuring, 503, 'the slow bodies should fill their own client slots');
    assert.ok(allowed(ownerAfter?.items[0]), `slots not released: ${ownerAfter?.status}`);
    for (const [kind, times] of Object.entries(closed)) {
      for (const t of times) {
        assert.ok(
          t !== undefined && t <= CLOSED_WITHIN_MS,
          `a slow ${kind} connection was still open after ${Math.round(t ?? SLOW_FOR_MS)} ms`,
        );
      }
    }
  });

  it('refuses oversized requests at once and keeps serving', async () => {
    const { client, vouch: server } = vouch;
    const url = `${server.url}/gatekeeper/v1/verify`;
    const request = (keys: unknown) => ({
      apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
      kind: 'ProviderRequest',
      request: { keys },
    });
    const timings: Record<string, number> = {};
    const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      const value = await fn();
      timings[name] = performance.now() - t;
      return value;
    };
    // a body over bodyBytes (64 KiB here), with a Content-Length
    const big = await timed('bodyMs', () => client.post(url, request([`${'a'.repeat(200 * 1024)}`])));
    assert.equal(big.status, 413);
    assert.match(JSON.stringify(big.json), /systemError/);
    // more keys than maxKeys
    const many = await timed('keysMs', () =>
      client.post(url, request(Array.from({ length: 101 }, (_, i) => `${unsignedKey}${i}`))),
    );
    assert.equal(many.status, 413);
    assert.match(JSON.stringify(many.json), /systemError/);
    // a chunked body with no length, over the limit: refused while it streams
    const chunked = await timed('chunkedMs', () => rawRequest(chunkedOversized()));
    assert.match(chunked, /^HTTP\/1\.1 413/);
    // headers over Node's 16 KiB
    const headers = await timed('headersMs', () =>
      rawRequest(`GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'b'.repeat(32 * 1024)}\r\n\r\n`),
    );
    assert.match(headers, /^HTTP\/1\.1 431/);

    const afterwards = await verify(client, server.url, [warmKey, unsignedKey]);
    assert.ok(allowed(afterwards.items[0]));
    assert.equal(afterwards.items[1]?.value?.isSuccess, false);
    reportRecovery('oversized', timings);
    for (const [name, ms] of Object.entries(timings)) assert.ok(ms < 2000, `${name}: ${Math.round(ms)} ms`);
  });

  /** A chunked request whose chunks add up to 256 KiB. */
  const chunkedOversized = (): string => {
    const chunk = 'c'.repeat(16 * 1024);
    const framed = `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
    return (
      'POST /gatekeeper/v1/verify HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\n' +
      `transfer-encoding: chunked\r\n\r\n${framed.repeat(16)}0\r\n\r\n`
    );
  };

  /** Sends `raw` over mTLS and resolves to what the server answered (until it closes, or 5 s). */
  const rawRequest = (raw: string): Promise<string> =>
    new Promise((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...tlsFiles }, () => {
        socket.write(raw);
      });
      let answer = '';
      const done = () => {
        clearTimeout(timer);
        socket.destroy();
        resolve(answer);
      };
      const timer = setTimeout(done, 5000);
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        answer += d;
        if (answer.includes('\r\n\r\n')) done();
      });
      socket.on('error', done);
      socket.on('close', done);
    });
});
