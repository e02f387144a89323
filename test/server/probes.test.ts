/**
 * mTLS on the main port is enforced in the handshake for every path; the optional plain-HTTP probe
 * listener (`server.probeListen`) serves the kubelet and Prometheus: /health, /ready, /metrics only.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { createClient, createPki, type RunningServer, startServer, type TestPki } from './harness.js';

describe('probe listener beside an mTLS server', () => {
  let pki: TestPki;
  let vouch: RunningServer;
  let probeUrl: string;

  before(async () => {
    pki = await createPki();
    const serverCert = await pki.leaf('server');
    vouch = await startServer(
      { verifiers: { cosign: { keys: [] } }, policy: { default: 'deny' } },
      {
        tls: {
          certFile: serverCert.cert,
          keyFile: serverCert.key,
          clientCaFile: path.join(pki.dir, 'ca.crt'),
        },
        probeListen: '127.0.0.1:0',
      },
    );
    probeUrl = (await vouch.server.probeUrl()) ?? '';
  });
  after(async () => {
    await vouch?.stop();
  });

  it('serves /health, /ready and /metrics over plain HTTP without a certificate', async () => {
    assert.match(probeUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await request(`${probeUrl}/health`);
    assert.equal(health.statusCode, 200);
    assert.equal(((await health.body.json()) as { status: string }).status, 'ok');
    const ready = await request(`${probeUrl}/ready`);
    assert.equal(ready.statusCode, 200, await ready.body.text());
    const metrics = await request(`${probeUrl}/metrics`);
    assert.match(await metrics.body.text(), /atcr_provider_requests_total/);
  });

  it('serves no decision on the probe listener', async () => {
    const res = await request(`${probeUrl}/gatekeeper/v1/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
        kind: 'ProviderRequest',
        request: { keys: ['a/b:c'] },
      }),
    });
    assert.equal(res.statusCode, 404);
    await res.body.dump();
  });

  it('still refuses a client without a certificate on the main port, on every path', async () => {
    const anonymous = await createClient(path.join(pki.dir, 'ca.crt'));
    await assert.rejects(anonymous.get(`${vouch.url}/health`));
    await anonymous.close();
  });
});
