/**
 * Starts a real AT Protocol network on loopback for tests: a PLC directory (@did-plc/server) and
 * a PDS (@atproto/pds) from test/services/atproto (installed by its install.sh), in a child
 * process, plus helpers to create accounts and to publish PLC operations signed with the PDS's
 * rotation key (to rotate an account's signing key or move its PDS endpoint).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as dagCbor from '@ipld/dag-cbor';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { cidForBlock } from '../../src/verifiers/atproto/repo/car.js';
import { stopChild } from './child.js';

const SERVICES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'services', 'atproto');

export interface TestAccount {
  readonly did: string;
  readonly handle: string;
  readonly password: string;
  readonly appPassword: string;
  readonly accessJwt: string;
}

export interface AtprotoNet {
  readonly plcUrl: string;
  readonly pdsUrl: string;
  /** Milliseconds from spawn to both servers answering. */
  readonly startMs: number;
  createAccount(name: string): Promise<TestAccount>;
  /** Publishes a PLC update for `did` (signed with the PDS's rotation key). */
  updatePlc(did: string, change: (op: Record<string, unknown>) => Record<string, unknown>): Promise<void>;
  xrpc(nsid: string, body: unknown, token?: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** True when test/services/atproto/install.sh has run. */
export function atprotoServicesInstalled(): boolean {
  return existsSync(path.join(SERVICES, 'node_modules', '.vouch-installed'));
}

async function json(res: Response, what: string): Promise<Record<string, unknown>> {
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}

export async function startAtprotoNet(options: { startTimeoutMs?: number } = {}): Promise<AtprotoNet> {
  if (!atprotoServicesInstalled()) {
    throw new Error('AT Protocol test servers are not installed: run test/services/atproto/install.sh');
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vouch-atproto-'));
  const started = Date.now();
  const child: ChildProcess = spawn(process.execPath, [path.join(SERVICES, 'net.mjs'), dataDir], {
    cwd: SERVICES,
    env: { ...process.env, LOG_ENABLED: 'false', NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const first = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`AT Protocol network did not start: ${stderr.slice(-500)}`)),
      options.startTimeoutMs ?? 60_000,
    );
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`AT Protocol network exited (${code}): ${stderr.slice(-500)}`));
    });
  });
  const info = JSON.parse(first) as { plcUrl: string; pdsUrl: string; plcRotationKeyHex: string };
  const startMs = Date.now() - started;
  const rotationKey = Buffer.from(info.plcRotationKeyHex, 'hex');

  const xrpc = async (nsid: string, body: unknown, token?: string) =>
    json(
      await fetch(`${info.pdsUrl}/xrpc/${nsid}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      }),
      nsid,
    );

  return {
    plcUrl: info.plcUrl,
    pdsUrl: info.pdsUrl,
    startMs,
    xrpc,
    async createAccount(name) {
      const password = randomBytes(12).toString('hex');
      const a = await xrpc('com.atproto.server.createAccount', {
        handle: `${name}.test`,
        email: `${name}@example.com`,
        password,
      });
      const app = await xrpc(
        'com.atproto.server.createAppPassword',
        { name: 'vouch-test' },
        String(a.accessJwt),
      );
      return {
        did: String(a.did),
        handle: String(a.handle),
        password,
        appPassword: String(app.password),
        accessJwt: String(a.accessJwt),
      };
    },
    async updatePlc(did, change) {
      const last = await json(
        await fetch(`${info.plcUrl}/${did}/log/last`, { signal: AbortSignal.timeout(10_000) }),
        'PLC log/last',
      );
      const prev = cidForBlock(dagCbor.encode(last)).toString();
      const { sig: _sig, ...unsigned } = change({ ...last });
      const op = { ...unsigned, prev };
      const digest = createHash('sha256').update(dagCbor.encode(op)).digest();
      const sig = secp256k1.sign(digest, rotationKey, { prehash: false, lowS: true, format: 'compact' });
      const signed = { ...op, sig: Buffer.from(sig).toString('base64url') };
      const res = await fetch(`${info.plcUrl}/${did}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(signed),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new Error(`PLC update: HTTP ${res.status} ${await res.text()}`);
    },
    async stop() {
      await stopChild(child, 6000);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
