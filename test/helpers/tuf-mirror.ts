/**
 * A real TUF repository (TUF specification v1.0: root, timestamp, snapshot and targets metadata,
 * ed25519-signed over OLPC canonical JSON) served as static files over HTTP on loopback, for the
 * cosign trusted-root refresh tests. It publishes one target, `trusted_root.json`; `publish`
 * bumps the timestamp, snapshot and targets versions like a repository update. `tamperTarget`
 * serves bytes that differ from what targets metadata records (a compromised mirror).
 */
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** OLPC canonical JSON (what TUF signs): sorted keys, no whitespace. */
function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k] as Json)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export interface TufMirror {
  readonly url: string;
  /** The initial root.json (the trust anchor a client must be given). */
  readonly rootJson: string;
  /** Paths fetched, in order. */
  readonly requests: readonly string[];
  /** Publishes `trustedRoot` as the new `trusted_root.json` target (metadata versions + 1). */
  publish(trustedRoot: string): void;
  /** Publishes metadata for `recorded` but serves `served` as the target (a compromised mirror). */
  tamperTarget(recorded: string, served: string): void;
  /** Re-signs timestamp metadata already expired (a frozen or replayed mirror). */
  expireTimestamp(): void;
  stop(): Promise<void>;
}

/** Starts a mirror publishing `trustedRoot`. */
export async function startTufMirror(trustedRoot: string): Promise<TufMirror> {
  const files = new Map<string, Buffer>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    requests.push(url);
    const body = req.method === 'GET' ? files.get(url) : undefined;
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  const keyJson: Json = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw } };
  const keyid = createHash('sha256').update(canonical(keyJson)).digest('hex');
  const expires = (ms: number) => new Date(Date.now() + ms).toISOString().replace(/\.\d+Z$/, 'Z');
  const envelope = (signed: Json, key: KeyObject = privateKey): Buffer =>
    Buffer.from(
      JSON.stringify({
        signed,
        signatures: [{ keyid, sig: sign(null, Buffer.from(canonical(signed)), key).toString('hex') }],
      }),
    );
  const role = { keyids: [keyid], threshold: 1 };
  const root = envelope({
    _type: 'root',
    spec_version: '1.0.31',
    version: 1,
    expires: expires(365 * 86400_000),
    consistent_snapshot: false,
    keys: { [keyid]: keyJson },
    roles: { root: role, timestamp: role, snapshot: role, targets: role },
  });
  files.set('/1.root.json', root);
  files.set('/root.json', root);

  let version = 0;
  let timestampExpiry = 86400_000;
  const writeMetadata = (target: Buffer, served: Buffer) => {
    const targets = envelope({
      _type: 'targets',
      spec_version: '1.0.31',
      version,
      expires: expires(30 * 86400_000),
      targets: {
        'trusted_root.json': {
          length: target.length,
          hashes: { sha256: createHash('sha256').update(target).digest('hex') },
        },
      },
    });
    const snapshot = envelope({
      _type: 'snapshot',
      spec_version: '1.0.31',
      version,
      expires: expires(7 * 86400_000),
      meta: { 'targets.json': { version } },
    });
    const timestamp = envelope({
      _type: 'timestamp',
      spec_version: '1.0.31',
      version,
      expires: expires(timestampExpiry),
      meta: { 'snapshot.json': { version } },
    });
    files.set('/targets.json', targets);
    files.set('/snapshot.json', snapshot);
    files.set('/timestamp.json', timestamp);
    files.set('/targets/trusted_root.json', served);
  };
  let current = Buffer.from(trustedRoot);
  const publish = (text: string) => {
    version += 1;
    current = Buffer.from(text);
    writeMetadata(current, current);
  };
  publish(trustedRoot);

  return {
    url,
    rootJson: root.toString('utf8'),
    requests,
    publish,
    tamperTarget(recorded, served) {
      version += 1;
      writeMetadata(Buffer.from(recorded), Buffer.from(served));
    },
    expireTimestamp() {
      version += 1;
      timestampExpiry = -3600_000;
      writeMetadata(current, current);
      timestampExpiry = 86400_000;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
