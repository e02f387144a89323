/**
 * The probe contract, end to end: each overlay's rendered vouch.yaml and trust ConfigMaps are served
 * by the real server the way its Deployment runs it (mTLS on the main port in gatekeeper mode),
 * and every probe of the container spec, made as the kubelet makes it, gets 200; Prometheus's
 * scrape annotations reach /metrics; the main port refuses a client without a certificate (in
 * gatekeeper mode), which is why the probes may not point at it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { field, find, type K8sObject, KUSTOMIZE, kustomize, stripHash } from './manifests.js';
import { kubeletGet, listenPort, type ServedConfig, serveShippedConfig } from './served.js';

interface ContainerPort {
  name: string;
  containerPort: number;
}

function configMapData(objects: K8sObject[], name: string): Record<string, string> {
  const cm = objects.find((o) => o.kind === 'ConfigMap' && stripHash(o.metadata.name) === name);
  assert.ok(cm, `ConfigMap ${name}`);
  return field(cm, 'data') as Record<string, string>;
}

for (const overlay of ['gatekeeper', 'admission'] as const) {
  describe(`overlay ${overlay}: the kubelet's probes and Prometheus against the real server`, () => {
    let objects: K8sObject[] = [];
    let container: Record<string, unknown> = {};
    let served: ServedConfig | undefined;
    const mtls = overlay === 'gatekeeper';

    /** The URL on the loopback server for a container port (by name or number) and a path. */
    function urlFor(port: string | number, scheme: string, path: string): string {
      const ports = container.ports as ContainerPort[];
      const p = ports.find((x) => x.name === port || x.containerPort === port);
      assert.ok(p, `container port ${port} is declared`);
      assert.ok(served);
      const args = container.args as string[];
      const mainPort = listenPort(args[args.indexOf('--listen') + 1] ?? '');
      const probePort = listenPort(served.shippedProbeListen);
      assert.ok(
        p.containerPort === mainPort || p.containerPort === probePort,
        `${p.name} is vouch's --listen or server.probeListen`,
      );
      const base = p.containerPort === probePort ? served.probeUrl : served.mainUrl;
      const url = new URL(path, base);
      assert.equal(
        url.protocol,
        `${scheme.toLowerCase()}:`,
        `${p.name} speaks ${url.protocol}, not ${scheme}`,
      );
      return url.toString();
    }

    before(async () => {
      objects = kustomize(join(KUSTOMIZE, 'overlays', overlay));
      const deployment = find(objects, 'Deployment', 'vouch');
      container = field(deployment, 'spec', 'template', 'spec', 'containers', 0) as Record<string, unknown>;
      assert.equal((container.args as string[]).includes('--client-ca'), mtls);
      served = await serveShippedConfig(
        configMapData(objects, 'vouch-config')['vouch.yaml'] ?? '',
        configMapData(objects, 'vouch-trust'),
        mtls,
      );
    });
    after(async () => {
      await served?.close();
    });

    it('the shipped probeListen is the container port named probes', () => {
      const ports = container.ports as ContainerPort[];
      assert.equal(served?.shippedProbeListen, '0.0.0.0:8081');
      assert.equal(ports.find((p) => p.name === 'probes')?.containerPort, 8081);
    });

    it('startup, liveness and readiness probes, made as the kubelet makes them, get 200', async () => {
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const get = field(container, probe, 'httpGet') as { scheme: string; path: string; port: string };
        assert.ok(get, `${probe} is an httpGet`);
        const res = await kubeletGet(urlFor(get.port, get.scheme, get.path));
        assert.equal(res.status, 200, `${probe} ${get.path}: ${res.text}`);
      }
    });

    it("Prometheus's scrape annotations reach /metrics", async () => {
      const annotations = field(
        find(objects, 'Deployment', 'vouch'),
        'spec',
        'template',
        'metadata',
        'annotations',
      ) as Record<string, string> | undefined;
      assert.equal(annotations?.['prometheus.io/scrape'], 'true');
      const url = urlFor(
        Number(annotations?.['prometheus.io/port']),
        annotations?.['prometheus.io/scheme'] ?? 'http',
        annotations?.['prometheus.io/path'] ?? '/metrics',
      );
      const res = await kubeletGet(url);
      assert.equal(res.status, 200);
      assert.match(res.text, /^# HELP atcr_provider_requests_total/m);
    });

    it('the probe port serves no decision', async () => {
      assert.ok(served);
      const res = await request(`${served.probeUrl}/gatekeeper/v1/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
          kind: 'ProviderRequest',
          request: { keys: ['a/b:c'] },
        }),
      });
      await res.body.dump();
      assert.equal(res.statusCode, 404);
    });

    it(
      mtls
        ? 'the main port refuses a client without a certificate, even on /health (so probes cannot use it)'
        : 'the main port answers /health over HTTPS without a client certificate (no mTLS in admission mode)',
      async () => {
        const probe = kubeletGet(urlFor('https', 'HTTPS', '/health'));
        if (mtls) await assert.rejects(probe);
        else assert.equal((await probe).status, 200);
      },
    );
  });
}
