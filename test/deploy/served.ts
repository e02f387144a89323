/**
 * Serves a shipped vouch.yaml the way the Deployment does: its trust material written where the
 * config names it, the real server (src/server) with a serving certificate, mTLS on the main port
 * when the Deployment passes `--client-ca`, and the probe listener from `server.probeListen`
 * (moved to a free loopback port; the shipped address is returned for the tests to compare).
 * Also a kubelet-like GET: HTTP, or HTTPS without verifying the server and without a client
 * certificate, exactly what the kubelet's httpGet probes do.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { parse } from 'yaml';
import type { VouchConfigInput } from '../../src/config/schema.js';
import { parseListen } from '../../src/server/config.js';
import { createPki, type RunningServer, startServer } from '../server/harness.js';

/** Where vouch.yaml expects the vouch-trust ConfigMap (the Deployment's mount path). */
export const TRUST_MOUNT = '/etc/vouch/trust/';

export interface ServedConfig {
  readonly vouch: RunningServer;
  /** `https://127.0.0.1:<port>`: the main (decision) port. */
  readonly mainUrl: string;
  /** `http://127.0.0.1:<port>`: the probe listener. */
  readonly probeUrl: string;
  /** `server.probeListen` as shipped, e.g. `0.0.0.0:8081`. */
  readonly shippedProbeListen: string;
  close(): Promise<void>;
}

/**
 * Starts vouch on loopback from `vouchYaml` (the text of a shipped vouch.yaml) and `trustFiles`
 * (name → content, as in the vouch-trust ConfigMap). `mtls`: require client certificates on the
 * main port, as `--client-ca` does.
 */
export async function serveShippedConfig(
  vouchYaml: string,
  trustFiles: Readonly<Record<string, string>>,
  mtls: boolean,
): Promise<ServedConfig> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vouch-deploy-served-'));
  const trustDir = path.join(dir, 'trust');
  await mkdir(trustDir);
  for (const [name, content] of Object.entries(trustFiles))
    await writeFile(path.join(trustDir, name), content);
  const config = parse(vouchYaml.replaceAll(TRUST_MOUNT, `${trustDir}/`)) as Record<string, unknown>;
  const server = (config.server ?? {}) as Record<string, unknown>;
  const shippedProbeListen = server.probeListen;
  if (typeof shippedProbeListen !== 'string')
    throw new Error('the shipped vouch.yaml sets no server.probeListen');
  delete config.server;
  const pki = await createPki();
  const serving = await pki.leaf('server');
  const vouch = await startServer(config as VouchConfigInput, {
    ...server,
    probeListen: '127.0.0.1:0',
    tls: {
      certFile: serving.cert,
      keyFile: serving.key,
      ...(mtls ? { clientCaFile: path.join(pki.dir, 'ca.crt') } : {}),
    },
  });
  const probeUrl = await vouch.server.probeUrl();
  if (!probeUrl) throw new Error('the server opened no probe listener');
  return {
    vouch,
    mainUrl: vouch.url,
    probeUrl,
    shippedProbeListen,
    async close() {
      await vouch.stop();
      await rm(dir, { recursive: true, force: true });
      await rm(pki.dir, { recursive: true, force: true });
    },
  };
}

/** The port of a `HOST:PORT` listen address. */
export function listenPort(listen: string): number {
  return parseListen(listen).port;
}

/** A GET as the kubelet's httpGet probe makes it: no client certificate, server not verified. */
export async function kubeletGet(url: string): Promise<{ status: number; text: string }> {
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false }, connections: 1 });
  try {
    const res = await request(url, { dispatcher, signal: AbortSignal.timeout(5000) });
    return { status: res.statusCode, text: await res.body.text() };
  } finally {
    await dispatcher.close();
  }
}
