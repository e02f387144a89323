/**
 * deploy/kubernetes: every file parses, every overlay renders with `kubectl kustomize`, every
 * rendered object validates against its schema, and the objects hold the rules of issue 7
 * (restricted pods, probes on the plain-HTTP probe listener, metrics, mTLS wiring, fail-closed
 * webhooks, the timing chain).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { writeSelfSignedCert } from '../helpers/self-signed.js';
import {
  field,
  find,
  type K8sObject,
  KUSTOMIZE,
  kubectlPresent,
  kustomize,
  OVERLAYS,
  type Overlay,
  parseDocuments,
  ROOT,
  yamlFiles,
} from './manifests.js';
import { validateObject } from './schemas.js';

/** Gatekeeper install flags the docs require (docs/gatekeeper.md): webhook timeouts in seconds. */
const GATEKEEPER_VALIDATING_TIMEOUT = 5;
const GATEKEEPER_MUTATING_TIMEOUT = 2;
const PLACEHOLDER_PREFIX = 'REPLACE-ME';

const rendered = new Map<Overlay, K8sObject[]>();

function overlay(name: Overlay): K8sObject[] {
  const objects = rendered.get(name);
  if (!objects) throw new Error(`overlay ${name} was not rendered`);
  return objects;
}

function budgets(objects: K8sObject[]): { validateMs: number; mutateMs: number } {
  const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('vouch-config'));
  const text = field(config, 'data', 'vouch.yaml');
  assert.equal(typeof text, 'string', 'vouch-config has vouch.yaml');
  const b = field(parse(text as string), 'server', 'budgets') as { validateMs: number; mutateMs: number };
  assert.ok(b.validateMs > 0 && b.mutateMs > 0, 'budgets are set explicitly');
  return b;
}

/** The Service's decision port (the one named https, not the probe listener's). */
function httpsPort(service: K8sObject): number | undefined {
  const ports = field(service, 'spec', 'ports') as Array<{ name: string; port: number }>;
  return ports.find((p) => p.name === 'https')?.port;
}

function container(objects: K8sObject[]): Record<string, unknown> {
  const c = field(find(objects, 'Deployment', 'vouch'), 'spec', 'template', 'spec', 'containers', 0);
  assert.ok(c && typeof c === 'object');
  return c as Record<string, unknown>;
}

describe('deploy/kubernetes', () => {
  before(() => {
    // kubectl is installed on every machine and in CI (the acceptance check needs it too).
    if (!kubectlPresent()) throw new Error('kubectl is required to render the kustomize overlays');
    for (const name of OVERLAYS) rendered.set(name, kustomize(join(KUSTOMIZE, 'overlays', name)));
  });

  it('every YAML file under deploy/kubernetes and the chart (not its templates) parses', () => {
    const files = [
      ...yamlFiles(KUSTOMIZE),
      ...yamlFiles(join(ROOT, 'deploy/helm/vouch')).filter((f) => !f.includes('/templates/')),
    ];
    assert.ok(files.length > 15, `found ${files.length} files`);
    for (const file of files) parseDocuments(readFileSync(join(ROOT, file), 'utf8'), file);
  });

  it('each overlay renders and has a Deployment, a Service and a NetworkPolicy', () => {
    for (const name of OVERLAYS) {
      const kinds = new Set(overlay(name).map((o) => o.kind));
      for (const kind of [
        'Deployment',
        'Service',
        'NetworkPolicy',
        'ServiceAccount',
        'PodDisruptionBudget',
        'ConfigMap',
      ]) {
        assert.ok(kinds.has(kind), `${name} has a ${kind}`);
      }
    }
    const gatekeeper = new Set(overlay('gatekeeper').map((o) => o.kind));
    for (const kind of ['Provider', 'ConstraintTemplate', 'Assign']) assert.ok(gatekeeper.has(kind), kind);
    const admission = new Set(overlay('admission').map((o) => o.kind));
    for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'Namespace']) {
      assert.ok(admission.has(kind), kind);
    }
    assert.ok(overlay('ha').some((o) => o.kind === 'Deployment' && o.metadata.name === 'vouch-redis'));
  });

  it('every rendered object validates against its Kubernetes or CRD schema', () => {
    for (const name of OVERLAYS) for (const obj of overlay(name)) validateObject(obj);
  });

  it('the schema check is not vacuous: broken objects are refused', () => {
    const deployment = structuredClone(find(overlay('admission'), 'Deployment', 'vouch'));
    (deployment.spec as Record<string, unknown>).replicas = 'two';
    assert.throws(() => validateObject(deployment), /replicas/);
    const provider = structuredClone(find(overlay('gatekeeper'), 'Provider', 'vouch'));
    (provider.spec as Record<string, unknown>).url = 'http://vouch.gatekeeper-system/gatekeeper/v1/verify';
    assert.throws(() => validateObject(provider), /https/);
    const unknown = { apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'x' } } as K8sObject;
    assert.throws(() => validateObject(unknown), /no schema/);
  });

  it('namespaced objects land in the mode namespace; cluster-scoped ones carry none', () => {
    const clusterScoped = new Set([
      'Provider',
      'ConstraintTemplate',
      'Assign',
      'Namespace',
      'ValidatingWebhookConfiguration',
      'MutatingWebhookConfiguration',
    ]);
    const expected: Record<Overlay, string> = {
      gatekeeper: 'gatekeeper-system',
      admission: 'vouch-system',
      ha: 'gatekeeper-system',
      'public-verification': 'vouch-system',
    };
    for (const name of OVERLAYS) {
      for (const obj of overlay(name)) {
        const cluster =
          clusterScoped.has(obj.kind) || obj.apiVersion.startsWith('constraints.gatekeeper.sh/');
        assert.equal(
          obj.metadata.namespace,
          cluster ? undefined : expected[name],
          `${name}: ${obj.kind}/${obj.metadata.name}`,
        );
      }
    }
  });

  it('the vouch pods run restricted: non-root, read-only root, no privilege, /tmp the only writable mount', () => {
    for (const name of OVERLAYS) {
      const deployment = find(overlay(name), 'Deployment', 'vouch');
      const pod = field(deployment, 'spec', 'template', 'spec') as Record<string, unknown>;
      assert.equal(field(pod, 'securityContext', 'runAsNonRoot'), true);
      assert.equal(field(pod, 'securityContext', 'seccompProfile', 'type'), 'RuntimeDefault');
      assert.equal(pod.automountServiceAccountToken, false);
      const c = container(overlay(name));
      assert.equal(field(c, 'securityContext', 'readOnlyRootFilesystem'), true);
      assert.equal(field(c, 'securityContext', 'allowPrivilegeEscalation'), false);
      assert.deepEqual(field(c, 'securityContext', 'capabilities', 'drop'), ['ALL']);
      assert.ok(field(c, 'resources', 'requests', 'memory') && field(c, 'resources', 'limits', 'memory'));
      const mounts = c.volumeMounts as Array<{ name: string; mountPath: string; readOnly?: boolean }>;
      for (const m of mounts)
        assert.ok(m.readOnly === true || m.mountPath === '/tmp', `${name}: ${m.mountPath} is read-only`);
      const volumes = pod.volumes as Array<Record<string, unknown>>;
      assert.ok(
        field(
          volumes.find((v) => v.name === 'tmp'),
          'emptyDir',
        ),
        '/tmp is an emptyDir',
      );
      assert.equal(
        field(
          volumes.find((v) => v.name === 'tls'),
          'secret',
          'secretName',
        ),
        'vouch-tls',
      );
      assert.ok(field(pod, 'affinity', 'podAntiAffinity'), 'replicas spread over nodes');
      assert.ok((deployment.spec as { replicas: number }).replicas >= 2);
    }
  });

  it('probes: startup and liveness /health, readiness /ready, over plain HTTP on the probes port (8081)', () => {
    for (const name of OVERLAYS) {
      const c = container(overlay(name));
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        assert.equal(field(c, probe, 'httpGet', 'scheme'), 'HTTP', `${name} ${probe}`);
        assert.equal(field(c, probe, 'httpGet', 'port'), 'probes', `${name} ${probe}`);
        assert.equal(field(c, probe, 'httpGet', 'path'), probe === 'readinessProbe' ? '/ready' : '/health');
      }
      assert.deepEqual(c.ports, [
        { name: 'https', containerPort: 8443, protocol: 'TCP' },
        { name: 'probes', containerPort: 8081, protocol: 'TCP' },
        // the public listener of remote application verification (public-verification.test.ts)
        ...(name === 'public-verification' ? [{ name: 'public', containerPort: 8444, protocol: 'TCP' }] : []),
      ]);
      const args = c.args as string[];
      const flag = (f: string) => args[args.indexOf(f) + 1];
      assert.equal(args[0], 'serve');
      assert.equal(flag('--config'), '/etc/vouch/vouch.yaml');
      assert.equal(flag('--listen'), '0.0.0.0:8443');
      assert.equal(flag('--tls-cert'), '/etc/vouch/tls/tls.crt');
      assert.equal(flag('--tls-key'), '/etc/vouch/tls/tls.key');
      // the probe listener is opened by the mounted vouch.yaml, not by a flag or an env override
      const config = overlay(name).find(
        (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('vouch-config'),
      );
      assert.equal(
        field(parse(field(config, 'data', 'vouch.yaml') as string), 'server', 'probeListen'),
        '0.0.0.0:8081',
      );
      const env = (c.env as Array<{ name: string }>).map((e) => e.name);
      assert.ok(!env.some((e) => /^VOUCH_SERVER__PROBE|^HEALTHCHECK_URL$/.test(e)), `${name}: ${env}`);
    }
  });

  it('metrics: Prometheus annotations and the Service port "probes" point at the probe listener', () => {
    for (const name of OVERLAYS) {
      const deployment = find(overlay(name), 'Deployment', 'vouch');
      assert.deepEqual(field(deployment, 'spec', 'template', 'metadata', 'annotations'), {
        'prometheus.io/scrape': 'true',
        'prometheus.io/scheme': 'http',
        'prometheus.io/port': '8081',
        'prometheus.io/path': '/metrics',
      });
      const service = find(overlay(name), 'Service', 'vouch');
      assert.deepEqual(field(service, 'spec', 'ports'), [
        { name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' },
        { name: 'probes', port: 8081, targetPort: 'probes', protocol: 'TCP' },
      ]);
    }
  });

  it("gatekeeper mode requires Gatekeeper's client certificate (mTLS); admission mode does not", () => {
    for (const name of ['gatekeeper', 'ha'] as const) {
      const c = container(overlay(name));
      const args = c.args as string[];
      assert.equal(args[args.indexOf('--client-ca') + 1], '/etc/vouch/client-ca/ca.crt');
      const pod = field(find(overlay(name), 'Deployment', 'vouch'), 'spec', 'template', 'spec');
      const volume = (field(pod, 'volumes') as Array<Record<string, unknown>>).find(
        (v) => v.name === 'client-ca',
      );
      assert.equal(field(volume, 'secret', 'secretName'), 'gatekeeper-webhook-server-cert');
    }
    assert.ok(!(container(overlay('admission')).args as string[]).includes('--client-ca'));
  });

  it('NetworkPolicy: 8443 only from Gatekeeper pods (gatekeeper) or from anywhere (admission); 8081 only from monitoring; egress DNS + 443', () => {
    const gk = find(overlay('gatekeeper'), 'NetworkPolicy', 'vouch');
    const from = field(gk, 'spec', 'ingress', 0, 'from', 0, 'podSelector', 'matchExpressions', 0) as {
      values: string[];
    };
    assert.deepEqual(from.values, ['controller-manager', 'audit-controller']);
    assert.equal(field(gk, 'spec', 'ingress', 0, 'ports', 0, 'port'), 8443);
    const adm = find(overlay('admission'), 'NetworkPolicy', 'vouch');
    assert.deepEqual(field(adm, 'spec', 'ingress', 0), { ports: [{ protocol: 'TCP', port: 8443 }] });
    for (const policy of [gk, adm, find(overlay('ha'), 'NetworkPolicy', 'vouch')]) {
      const ingress = field(policy, 'spec', 'ingress') as Array<Record<string, unknown>>;
      assert.equal(ingress.length, 2, 'the decision port rule and the probe listener rule');
      assert.deepEqual(ingress[1], {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
        ports: [{ protocol: 'TCP', port: 8081 }],
      });
      assert.deepEqual(field(policy, 'spec', 'policyTypes'), ['Ingress', 'Egress']);
      const ports = (field(policy, 'spec', 'egress') as Array<{ ports: Array<{ port: number }> }>).flatMap(
        (e) => e.ports.map((p) => p.port),
      );
      assert.deepEqual(ports.sort(), [443, 53, 53]);
    }
    const toRedis = find(overlay('ha'), 'NetworkPolicy', 'vouch-to-redis');
    assert.equal(field(toRedis, 'spec', 'egress', 0, 'ports', 0, 'port'), 6379);
  });

  it('timing chain: budget < Provider timeout < Gatekeeper webhook timeout', () => {
    for (const name of ['gatekeeper', 'ha'] as const) {
      const b = budgets(overlay(name));
      const verify = find(overlay(name), 'Provider', 'vouch');
      const mutate = find(overlay(name), 'Provider', 'vouch-mutation');
      const verifyTimeout = field(verify, 'spec', 'timeout') as number;
      const mutateTimeout = field(mutate, 'spec', 'timeout') as number;
      assert.ok(
        b.validateMs < verifyTimeout * 1000,
        `validate budget ${b.validateMs} ms < Provider ${verifyTimeout} s`,
      );
      assert.ok(
        b.mutateMs < mutateTimeout * 1000,
        `mutate budget ${b.mutateMs} ms < Provider ${mutateTimeout} s`,
      );
      assert.ok(verifyTimeout < GATEKEEPER_VALIDATING_TIMEOUT);
      assert.ok(mutateTimeout < GATEKEEPER_MUTATING_TIMEOUT);
    }
    // the docs install Gatekeeper with exactly those webhook timeouts
    for (const doc of ['docs/getting-started.md', 'docs/gatekeeper.md']) {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      assert.ok(text.includes(`validatingWebhookTimeoutSeconds=${GATEKEEPER_VALIDATING_TIMEOUT}`), doc);
      assert.ok(text.includes(`mutatingWebhookTimeoutSeconds=${GATEKEEPER_MUTATING_TIMEOUT}`), doc);
    }
  });

  it('admission webhooks: fail closed, timeouts above the budgets, pods/ephemeralcontainers, own namespace exempt', () => {
    const objects = overlay('admission');
    const b = budgets(objects);
    const service = find(objects, 'Service', 'vouch');
    const servicePort = httpsPort(service);
    const checks = [
      { kind: 'ValidatingWebhookConfiguration', path: '/admission/validate', budgetMs: b.validateMs },
      { kind: 'MutatingWebhookConfiguration', path: '/admission/mutate', budgetMs: b.mutateMs },
    ];
    for (const { kind, path, budgetMs } of checks) {
      const webhooks = field(find(objects, kind, 'vouch'), 'webhooks') as Array<Record<string, unknown>>;
      assert.ok(webhooks.length > 0);
      for (const w of webhooks) {
        assert.equal(w.failurePolicy, 'Fail', `${w.name} fails closed`);
        assert.equal(w.sideEffects, 'None');
        assert.deepEqual(w.admissionReviewVersions, ['v1']);
        const timeout = w.timeoutSeconds as number;
        assert.ok(timeout * 1000 > budgetMs && timeout <= 30, `${w.name}: ${timeout} s > ${budgetMs} ms`);
        // validating: also with path options (/admission/validate/enforce-details, …)
        const served = field(w, 'clientConfig', 'service', 'path') as string;
        assert.ok(
          served === path || (kind.startsWith('Validating') && served.startsWith(`${path}/`)),
          served,
        );
        assert.equal(field(w, 'clientConfig', 'service', 'namespace'), 'vouch-system');
        assert.equal(field(w, 'clientConfig', 'service', 'name'), service.metadata.name);
        assert.equal(field(w, 'clientConfig', 'service', 'port'), servicePort);
        const excluded = field(w, 'namespaceSelector', 'matchExpressions', 0) as {
          operator: string;
          values: string[];
        };
        assert.equal(excluded.operator, 'NotIn');
        assert.ok(excluded.values.includes('vouch-system') && excluded.values.includes('kube-system'));
      }
      const resources = webhooks.flatMap((w) =>
        (w.rules as Array<{ resources: string[] }>).flatMap((r) => r.resources),
      );
      for (const r of [
        'pods',
        'pods/ephemeralcontainers',
        'deployments',
        'cronjobs',
        'jobs',
        'statefulsets',
      ]) {
        assert.ok(resources.includes(r), `${kind} covers ${r}`);
      }
    }
  });

  it('Provider URLs name the Service host (a SAN of the serving certificate) and the server routes', () => {
    const objects = overlay('gatekeeper');
    const verify = new URL(field(find(objects, 'Provider', 'vouch'), 'spec', 'url') as string);
    const mutate = new URL(field(find(objects, 'Provider', 'vouch-mutation'), 'spec', 'url') as string);
    const service = find(objects, 'Service', 'vouch');
    for (const url of [verify, mutate]) {
      assert.equal(url.hostname, `${service.metadata.name}.${service.metadata.namespace}`);
      assert.equal(Number(url.port || 443), httpsPort(service));
    }
    assert.equal(verify.pathname, '/gatekeeper/v1/verify');
    assert.equal(mutate.pathname, '/gatekeeper/v1/mutate');
  });

  describe('caBundle: a placeholder that fails closed, replaced by the documented patch', () => {
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'vouch-cabundle-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('the shipped placeholder decodes to a REPLACE-ME note, not a certificate', () => {
      for (const name of ['vouch', 'vouch-mutation']) {
        const bundle = field(find(overlay('gatekeeper'), 'Provider', name), 'spec', 'caBundle') as string;
        assert.ok(Buffer.from(bundle, 'base64').toString('utf8').startsWith(PLACEHOLDER_PREFIX));
      }
    });

    it('a user overlay patching caBundle (docs/gatekeeper.md) yields a CA Gatekeeper can parse', () => {
      writeSelfSignedCert(join(dir, 'ca.key'), join(dir, 'ca.crt'), 'vouch test CA');
      const caBundle = readFileSync(join(dir, 'ca.crt')).toString('base64');
      const base = relative(dir, join(KUSTOMIZE, 'overlays', 'gatekeeper'));
      const patch = (name: string) =>
        `  - target: {group: externaldata.gatekeeper.sh, kind: Provider, name: ${name}}\n` +
        `    patch: |-\n      - op: replace\n        path: /spec/caBundle\n        value: ${caBundle}\n`;
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${base}\npatches:\n${patch('vouch')}${patch('vouch-mutation')}`,
      );
      const objects = kustomize(dir);
      for (const name of ['vouch', 'vouch-mutation']) {
        const pem = Buffer.from(
          field(find(objects, 'Provider', name), 'spec', 'caBundle') as string,
          'base64',
        ).toString();
        assert.equal(new X509Certificate(pem).subject, 'CN=vouch test CA');
      }
    });
  });

  it('the ha overlay shares a Redis cache whose password comes from a Secret, never from a file here', () => {
    const objects = overlay('ha');
    const c = container(objects);
    const env = c.env as Array<{ name: string; value?: string; valueFrom?: unknown }>;
    assert.equal(
      field(
        env.find((e) => e.name === 'REDIS_PASSWORD'),
        'valueFrom',
        'secretKeyRef',
        'name',
      ),
      'vouch-redis',
    );
    assert.match(
      env.find((e) => e.name === 'VOUCH_CACHE__REDIS__URL')?.value ?? '',
      /^redis:\/\/:\$\(REDIS_PASSWORD\)@vouch-redis:6379$/,
    );
    const config = parse(
      field(
        objects.find((o) => o.metadata.name.startsWith('vouch-config')),
        'data',
        'vouch.yaml',
      ) as string,
    );
    assert.deepEqual(field(config, 'cache', 'type'), 'redis');
    assert.ok(!JSON.stringify(objects.filter((o) => o.kind === 'ConfigMap')).includes('requirepass'));
    assert.equal((find(objects, 'Deployment', 'vouch').spec as { replicas: number }).replicas, 3);
  });
});
