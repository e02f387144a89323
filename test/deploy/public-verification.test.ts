/**
 * Remote application verification and per-image verification details, as deployed
 * (docs/remote-verification.md): overlays/public-verification and the chart's
 * publicVerification.* against overlays/admission and the chart's defaults (the feature off).
 *
 * - Every rendered object validates; off, nothing of the public listener is rendered.
 * - On: vouch.yaml's server.publicVerification passes vouch's own schema; its listen port is the
 *   container port "public" and the port of Service vouch-public; its signingKeyFile lies in a
 *   read-only mount of the signing key Secret (no Secret and no private key is rendered); the
 *   NetworkPolicy opens that port; the kustomize overlay and the chart render the same.
 * - The validating webhooks' namespaceSelectors are mutually exclusive and exhaustive over the
 *   labels vouch.dev/enforce-verification-details and vouch.dev/public-verification: each
 *   namespace is checked by exactly one webhook per kind, on the path whose options match its
 *   labels.
 * - End to end: each rendered vouch.yaml (kustomize and Helm) is served by two replicas of
 *   `vouch serve` (the CLI from source, in child processes, with the Deployment's arguments, one
 *   signing key as the Secret holds it, and a real Redis for the rendered Redis cache); the
 *   Service's port, followed to the container port and the configured listen address, serves
 *   GET /v1/keys with that key; every webhook path the manifests register is a route the server
 *   answers; a pod admitted through one replica on the public path is listed, signed, by the
 *   other, and `vouch verify URL --public-key` re-verifies it from the registry (an image signed
 *   with notation by the operator's CA, put in the vouch-trust ConfigMap's CA file).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { Agent, request } from 'undici';
import { parse, stringify } from 'yaml';
import { configSchema } from '../../src/config/schema.js';
import { parseReference } from '../../src/reference/parse.js';
import { createRegistryClient } from '../../src/registry/client.js';
import { parseListen, parseServerConfig } from '../../src/server/config.js';
import { verifyApplications } from '../../src/server/public/envelope.js';
import { signNotation } from '../../src/sign/notation/index.js';
import { generateTestCertificate } from '../../src/sign/notation/testcert.js';
import { parsePublicKey } from '../../src/verifiers/cosign/public-key.js';
import { stopChild } from '../helpers/child.js';
import { pushTestImage } from '../helpers/images.js';
import { writeNotationDir } from '../helpers/notation-dir.js';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { createPki, type TestPki } from '../server/harness.js';
import { podReview } from '../server/public-review.js';
import {
  CHART,
  field,
  find,
  identities,
  type K8sObject,
  KUSTOMIZE,
  kubectlPresent,
  kustomize,
  ROOT,
  renderChart,
  stripHash,
} from './manifests.js';
import { validateObject } from './schemas.js';
import { TRUST_MOUNT } from './served.js';

const ENFORCE_LABEL = 'vouch.dev/enforce-verification-details';
const PUBLIC_LABEL = 'vouch.dev/public-verification';
const NAMESPACE = 'vouch-system';

interface Container {
  name: string;
  args: string[];
  env: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  ports: Array<{ name: string; containerPort: number; protocol: string }>;
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string }>;
}

interface Webhook {
  name: string;
  clientConfig: { service: { path: string; namespace: string; name: string; port: number } };
  namespaceSelector: {
    matchLabels?: Record<string, string>;
    matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
  };
  rules: unknown[];
  failurePolicy: string;
  timeoutSeconds: number;
  sideEffects: string;
}

const chartOn = { mode: 'admission', clientCA: { enabled: false }, publicVerification: { enabled: true } };
const chartOff = { mode: 'admission', clientCA: { enabled: false } };

/** The variants under test: name, objects, and whether public verification is on. */
const variants: Array<{ name: string; on: boolean; objects: K8sObject[] }> = [];

function variant(name: string): K8sObject[] {
  const v = variants.find((x) => x.name === name);
  assert.ok(v, `variant ${name} was rendered`);
  return v.objects;
}

function containerOf(objects: K8sObject[]): Container {
  return field(
    find(objects, 'Deployment', 'vouch'),
    'spec',
    'template',
    'spec',
    'containers',
    0,
  ) as Container;
}

function podSpec(objects: K8sObject[]): Record<string, unknown> {
  return field(find(objects, 'Deployment', 'vouch'), 'spec', 'template', 'spec') as Record<string, unknown>;
}

function vouchYaml(objects: K8sObject[]): string {
  const cm = objects.find((o) => o.kind === 'ConfigMap' && stripHash(o.metadata.name) === 'vouch-config');
  const text = field(cm, 'data', 'vouch.yaml');
  assert.equal(typeof text, 'string', 'vouch-config has vouch.yaml');
  return text as string;
}

function trustFiles(objects: K8sObject[]): Record<string, string> {
  const cm = objects.find((o) => o.kind === 'ConfigMap' && stripHash(o.metadata.name) === 'vouch-trust');
  return field(cm, 'data') as Record<string, string>;
}

/** server.publicVerification as vouch reads it (defaults applied), or undefined when off. */
function publicConfig(objects: K8sObject[]) {
  const parsed = configSchema.safeParse(parse(vouchYaml(objects)));
  assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues));
  const server = parseServerConfig(parsed.data.server, 'vouch.yaml');
  return { config: parsed.data, server, pv: server.publicVerification };
}

function validatingWebhooks(objects: K8sObject[]): Webhook[] {
  return field(find(objects, 'ValidatingWebhookConfiguration', 'vouch'), 'webhooks') as Webhook[];
}

/** Kubernetes label selector semantics (matchLabels AND matchExpressions). */
function selects(selector: Webhook['namespaceSelector'], labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const inValues = has && (e.values ?? []).includes(value as string);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator))
      throw new Error(`unknown operator ${e.operator}`);
  }
  return true;
}

/** The resources a webhook's rules cover, as one sorted key (webhooks for the same kinds agree). */
function ruleKey(w: Webhook): string {
  return JSON.stringify(w.rules);
}

/** The options of a webhook path: `/admission/validate/enforce-details+public` → both. */
function pathOptions(p: string): string[] {
  const rest = p.replace(/^\/admission\/validate\/?/, '');
  return rest === '' ? [] : rest.split('+').sort();
}

/**
 * Every namespace (each value of both labels: absent, "true", "false"; vouch's own and kube-system)
 * is matched by exactly one validating webhook per kind (rules), whose path options are what its
 * labels ask for; vouch-system and kube-system by none.
 */
function checkSelectors(name: string, webhooks: Webhook[], on: boolean): void {
  const labelValues = [undefined, 'true', 'false'];
  const groups = new Map<string, Webhook[]>();
  for (const w of webhooks) groups.set(ruleKey(w), [...(groups.get(ruleKey(w)) ?? []), w]);
  assert.equal(groups.size, 2, `${name}: pods and workloads`);
  for (const [, group] of groups) {
    assert.equal(group.length, on ? 4 : 2, `${name}: ${group.map((w) => w.name)}`);
    for (const enforce of labelValues)
      for (const pub of labelValues)
        for (const ns of ['shop', NAMESPACE, 'kube-system']) {
          const labels: Record<string, string> = { 'kubernetes.io/metadata.name': ns };
          if (enforce !== undefined) labels[ENFORCE_LABEL] = enforce;
          if (pub !== undefined) labels[PUBLIC_LABEL] = pub;
          const matched = group.filter((w) => selects(w.namespaceSelector, labels));
          if (ns !== 'shop') {
            assert.deepEqual(matched, [], `${name}: ${ns} is never gated`);
            continue;
          }
          assert.equal(
            matched.length,
            1,
            `${name}: ${JSON.stringify(labels)} → ${matched.map((w) => w.name)}`,
          );
          const expected = [
            ...(enforce === 'true' ? ['enforce-details'] : []),
            ...(on && pub === 'true' ? ['public'] : []),
          ].sort();
          assert.deepEqual(
            pathOptions(matched[0]?.clientConfig.service.path ?? ''),
            expected,
            JSON.stringify(labels),
          );
        }
  }
}

/** The Deployment's containerPort that a Service port's targetPort names. */
function targetContainerPort(
  objects: K8sObject[],
  service: K8sObject,
  portName: string,
  samePort = true,
): number {
  const ports = field(service, 'spec', 'ports') as Array<{ name: string; port: number; targetPort: string }>;
  const sp = ports.find((p) => p.name === portName);
  assert.ok(sp, `Service ${service.metadata.name} has port ${portName}`);
  const cp = containerOf(objects).ports.find(
    (p) => p.name === sp.targetPort || p.containerPort === Number(sp.targetPort),
  );
  assert.ok(cp, `targetPort ${sp.targetPort} is a container port`);
  if (samePort)
    assert.equal(cp.containerPort, sp.port, 'the Service port is the container port (one number)');
  return cp.containerPort;
}

describe('public verification and verification details, as deployed', () => {
  before(() => {
    if (!kubectlPresent()) throw new Error('kubectl is required to render the kustomize overlays');
    variants.push(
      { name: 'kustomize off', on: false, objects: kustomize(path.join(KUSTOMIZE, 'overlays', 'admission')) },
      {
        name: 'kustomize on',
        on: true,
        objects: kustomize(path.join(KUSTOMIZE, 'overlays', 'public-verification')),
      },
      { name: 'helm off', on: false, objects: renderChart(NAMESPACE, chartOff) },
      {
        name: 'helm on',
        on: true,
        objects: renderChart(NAMESPACE, { ...chartOn, redis: { enabled: true } }),
      },
      { name: 'helm on, memory cache', on: true, objects: renderChart(NAMESPACE, chartOn) },
    );
  });

  it('every rendered object validates against its schema, feature on and off', () => {
    for (const { name, objects } of variants) {
      assert.ok(objects.length >= 8, name);
      for (const obj of objects) validateObject(obj);
    }
  });

  it('off: no public listener, port, Service, NetworkPolicy, signing key or public webhook', () => {
    for (const { name, objects, on } of variants) {
      if (on) continue;
      assert.ok(!objects.some((o) => o.metadata.name === 'vouch-public'), name);
      assert.deepEqual(
        containerOf(objects).ports.map((p) => p.name),
        ['https', 'probes'],
        name,
      );
      assert.ok(!containerOf(objects).volumeMounts.some((m) => m.name === 'signing-key'), name);
      assert.equal(publicConfig(objects).pv.enabled, false, name);
      assert.ok(
        !validatingWebhooks(objects).some((w) => pathOptions(w.clientConfig.service.path).includes('public')),
      );
    }
  });

  it("on: server.publicVerification passes vouch's schema; Service vouch-public's port is the listen port", () => {
    for (const { name, objects, on } of variants) {
      if (!on) continue;
      const { pv, server } = publicConfig(objects);
      assert.equal(pv.enabled, true, name);
      const listen = parseListen(pv.listen);
      assert.equal(listen.host, '0.0.0.0', `${name}: reachable through the Service`);
      const service = find(objects, 'Service', 'vouch-public');
      assert.equal(targetContainerPort(objects, service, 'public'), listen.port, name);
      assert.equal(containerOf(objects).ports.find((p) => p.name === 'public')?.containerPort, listen.port);
      // separate from the webhook (mTLS-capable) port and the probe listener
      const args = containerOf(objects).args;
      const mainPort = parseListen(args[args.indexOf('--listen') + 1] ?? '').port;
      assert.ok(server.probeListen);
      assert.notEqual(listen.port, mainPort);
      assert.notEqual(listen.port, parseListen(server.probeListen).port);
      assert.ok(
        !(field(find(objects, 'Service', 'vouch'), 'spec', 'ports') as Array<{ port: number }>).some(
          (p) => p.port === listen.port,
        ),
        `${name}: the webhook Service does not expose the public port`,
      );
      // the Service selects vouch's pods
      const podLabels = field(
        find(objects, 'Deployment', 'vouch'),
        'spec',
        'template',
        'metadata',
        'labels',
      ) as Record<string, string>;
      for (const [k, v] of Object.entries(field(service, 'spec', 'selector') as Record<string, string>))
        assert.equal(podLabels[k], v, `${name}: Service selector ${k}`);
      // NetworkPolicies add up: vouch-public opens exactly that port to vouch's pods
      const np = find(objects, 'NetworkPolicy', 'vouch-public');
      assert.deepEqual(field(np, 'spec', 'podSelector', 'matchLabels'), {
        'app.kubernetes.io/name': 'vouch',
      });
      assert.deepEqual(field(np, 'spec', 'ingress', 0, 'ports'), [{ protocol: 'TCP', port: listen.port }]);
      assert.deepEqual(field(np, 'spec', 'policyTypes'), ['Ingress']);
    }
  });

  it('on: the signing key Secret is mounted read-only at the folder signingKeyFile names; nothing secret is rendered', () => {
    for (const { name, objects, on } of variants) {
      if (!on) continue;
      const { pv } = publicConfig(objects);
      assert.ok(pv.signingKeyFile, name);
      assert.ok(path.isAbsolute(pv.signingKeyFile), `${name}: an absolute path (the mount)`);
      const mount = containerOf(objects).volumeMounts.find(
        (m) => !m.subPath && pv.signingKeyFile?.startsWith(`${m.mountPath}/`),
      );
      assert.ok(mount, `${name}: a mount holds ${pv.signingKeyFile}`);
      assert.equal(mount.readOnly, true, `${name}: read-only`);
      assert.equal(
        path.dirname(pv.signingKeyFile),
        mount.mountPath,
        `${name}: the Secret's key, no subfolder`,
      );
      const volume = (podSpec(objects).volumes as Array<Record<string, unknown>>).find(
        (v) => v.name === mount.name,
      );
      assert.equal(field(volume, 'secret', 'secretName'), 'vouch-signing', name);
      assert.equal(
        field(volume, 'secret', 'items'),
        undefined,
        `${name}: the whole Secret (key and password)`,
      );
      const mode = field(volume, 'secret', 'defaultMode') as number;
      assert.equal(mode & 0o007, 0, `${name}: not world-readable (${mode.toString(8)})`);
      assert.ok(
        mode & 0o040,
        `${name}: readable by vouch's group (fsGroup ${field(podSpec(objects), 'securityContext', 'fsGroup')})`,
      );
      // never baked in: no Secret object, no private key anywhere in the rendered objects
      assert.ok(!objects.some((o) => o.kind === 'Secret'), name);
      assert.doesNotMatch(JSON.stringify(objects), /PRIVATE KEY/, name);
    }
  });

  it('on (kustomize, helm with redis): the list lives in a Redis cache every replica shares', () => {
    for (const name of ['kustomize on', 'helm on']) {
      const objects = variant(name);
      assert.equal(publicConfig(objects).config.cache.type, 'redis', name);
      const env = containerOf(objects).env;
      assert.equal(
        field(
          env.find((e) => e.name === 'REDIS_PASSWORD'),
          'valueFrom',
          'secretKeyRef',
          'name',
        ),
        'vouch-redis',
      );
      assert.ok(env.some((e) => e.name === 'VOUCH_CACHE__REDIS__URL'));
      find(objects, 'Deployment', 'vouch-redis');
      assert.ok((field(find(objects, 'Deployment', 'vouch'), 'spec', 'replicas') as number) >= 2);
    }
  });

  it('validating webhooks: each namespace is checked by exactly one webhook per kind, on the path its labels ask for', () => {
    for (const { name, objects, on } of variants) {
      const webhooks = validatingWebhooks(objects);
      checkSelectors(name, webhooks, on);
      // every webhook fails closed, on the Service vouch, like the default one
      for (const w of webhooks) {
        assert.equal(w.failurePolicy, 'Fail');
        assert.equal(w.sideEffects, 'None');
        assert.equal(w.clientConfig.service.name, 'vouch');
        assert.equal(w.clientConfig.service.namespace, NAMESPACE);
        assert.equal(w.timeoutSeconds, webhooks[0]?.timeoutSeconds);
      }
      assert.equal(new Set(webhooks.map((w) => w.name)).size, webhooks.length, 'unique names');
    }
  });

  it('the selector check is not vacuous: overlapping, missing or crossed selectors are refused', () => {
    const shipped = validatingWebhooks(variant('kustomize on'));
    const broken = (edit: (ws: Webhook[]) => void) => {
      const copy = structuredClone(shipped);
      edit(copy);
      return () => checkSelectors('broken', copy, true);
    };
    const byName = (ws: Webhook[], n: string) => {
      const w = ws.find((x) => x.name === n);
      assert.ok(w, n);
      return w;
    };
    // the default webhook no longer leaves public namespaces out: they are checked twice
    assert.throws(
      broken((ws) => {
        const sel = byName(ws, 'pods.verify.vouch.dev').namespaceSelector;
        sel.matchExpressions = sel.matchExpressions?.filter((e) => e.key !== PUBLIC_LABEL);
      }),
      /→ pods\.verify\.vouch\.dev,pods\.public/,
    );
    // matchLabels "false" instead of NotIn "true": a namespace without the label is checked by none
    assert.throws(
      broken((ws) => {
        const sel = byName(ws, 'workloads.verify.vouch.dev').namespaceSelector;
        sel.matchExpressions = sel.matchExpressions?.filter((e) => e.key !== ENFORCE_LABEL);
        sel.matchLabels = { [ENFORCE_LABEL]: 'false' };
      }),
      /→ $/m,
    );
    // the public and details-public paths swapped
    assert.throws(
      broken((ws) => {
        const a = byName(ws, 'pods.public.verify.vouch.dev').clientConfig.service;
        const b = byName(ws, 'pods.details-public.verify.vouch.dev').clientConfig.service;
        [a.path, b.path] = [b.path, a.path];
      }),
      /"vouch.dev\/public-verification":"true"/,
    );
  });

  it('the chart renders what the overlays render, feature on and off', () => {
    const pairs: Array<[string, string]> = [
      ['helm on', 'kustomize on'],
      ['helm off', 'kustomize off'],
    ];
    for (const [h, k] of pairs) {
      const chart = variant(h);
      const kust = variant(k).filter((o) => o.kind !== 'Namespace');
      assert.deepEqual(identities(chart), identities(kust), h);
      for (const obj of kust) {
        const other = chart.find(
          (o) => o.kind === obj.kind && stripHash(o.metadata.name) === stripHash(obj.metadata.name),
        );
        assert.ok(other, `${h}: ${obj.kind}/${obj.metadata.name}`);
        if (obj.kind.endsWith('WebhookConfiguration'))
          assert.deepEqual(field(other, 'webhooks'), field(obj, 'webhooks'), `${h}: ${obj.kind}`);
        else if (obj.kind === 'Deployment') {
          const unhash = (o: K8sObject) => {
            const spec = structuredClone(field(o, 'spec')) as Record<string, unknown>;
            for (const v of field(spec, 'template', 'spec', 'volumes') as Array<{
              configMap?: { name: string };
            }>)
              if (v.configMap) v.configMap.name = stripHash(v.configMap.name);
            return spec;
          };
          assert.deepEqual(unhash(other), unhash(obj), `${h}: Deployment/${obj.metadata.name}`);
        } else if (obj.kind !== 'ConfigMap')
          assert.deepEqual(
            field(other, 'spec'),
            field(obj, 'spec'),
            `${h}: ${obj.kind}/${obj.metadata.name}`,
          );
      }
      assert.deepEqual(parse(vouchYaml(chart)), parse(vouchYaml(kust)), `${h}: vouch.yaml`);
    }
  });

  it('the overlay vouch.yaml is the base one plus server.publicVerification and the ha Redis cache', () => {
    const read = (p: string) =>
      parse(readFileSync(path.join(KUSTOMIZE, p), 'utf8')) as Record<string, unknown>;
    const base = read('base/vouch.yaml');
    const ha = read('overlays/ha/vouch.yaml');
    const pv = read('overlays/public-verification/vouch.yaml');
    assert.deepEqual(pv.cache, ha.cache);
    const server = structuredClone(pv.server) as Record<string, unknown>;
    assert.ok(server.publicVerification);
    delete server.publicVerification;
    assert.deepEqual({ ...pv, server, cache: base.cache }, base);
  });

  it('chart values: port, password file, peers and settings reach vouch.yaml and the objects', () => {
    const objects = renderChart(NAMESPACE, {
      ...chartOn,
      publicVerification: {
        enabled: true,
        port: 9444,
        signingKey: { secretName: 'my-key', key: 'cosign.key', passwordKey: 'password' },
        service: { type: 'LoadBalancer', externalTrafficPolicy: 'Local' },
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress' } } }],
        settings: { publicUrl: 'https://vouch.example.com', namespaces: ['shop'], ttlSeconds: 3600 },
      },
    });
    for (const obj of objects) validateObject(obj);
    const { pv } = publicConfig(objects);
    assert.equal(pv.listen, '0.0.0.0:9444');
    assert.equal(pv.signingKeyFile, '/etc/vouch/signing/cosign.key');
    assert.equal(pv.signingKeyPasswordFile, '/etc/vouch/signing/password');
    assert.equal(pv.publicUrl, 'https://vouch.example.com');
    assert.deepEqual(pv.namespaces, ['shop']);
    assert.equal(pv.ttlSeconds, 3600);
    assert.equal(pv.maxImages, 200, 'unset settings keep vouch defaults');
    const service = find(objects, 'Service', 'vouch-public');
    assert.equal(field(service, 'spec', 'type'), 'LoadBalancer');
    assert.equal(field(service, 'spec', 'externalTrafficPolicy'), 'Local');
    assert.equal(targetContainerPort(objects, service, 'public'), 9444);
    const volume = (podSpec(objects).volumes as Array<Record<string, unknown>>).find(
      (v) => v.name === 'signing-key',
    );
    assert.equal(field(volume, 'secret', 'secretName'), 'my-key');
    const np = find(objects, 'NetworkPolicy', 'vouch-public');
    assert.deepEqual(field(np, 'spec', 'ingress', 0), {
      ports: [{ protocol: 'TCP', port: 9444 }],
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress' } } }],
    });
  });

  it("the chart writes every top-level section of vouch.yaml's config (none is dropped)", () => {
    const template = readFileSync(path.join(CHART, 'templates', 'configmap.yaml'), 'utf8');
    for (const key of Object.keys(configSchema.shape)) {
      if (key === 'cache') continue; // cache / redisCache, below config
      assert.match(template, new RegExp(`\\.Values\\.config\\.${key}\\b`), `config.${key} is written`);
    }
    const objects = renderChart(NAMESPACE, {
      ...chartOn,
      config: { registries: { insecure: ['registry.local:5000'] }, engine: { concurrency: 4 } },
    });
    const text = parse(vouchYaml(objects)) as Record<string, unknown>;
    assert.deepEqual(field(text, 'registries', 'insecure'), ['registry.local:5000']);
    assert.equal(field(text, 'engine', 'concurrency'), 4);
    assert.ok(field(text, 'server', 'publicVerification'));
    assert.equal(field(text, 'server', 'probeListen'), '0.0.0.0:8081', 'server keeps its own settings');
  });

  it('docs/remote-verification.md names every shipped webhook path, its labels and the overlay', () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'remote-verification.md'), 'utf8');
    for (const w of validatingWebhooks(variant('kustomize on'))) {
      assert.ok(doc.includes(w.name), `the doc names ${w.name}`);
      assert.ok(doc.includes(w.clientConfig.service.path), `the doc names ${w.clientConfig.service.path}`);
    }
    for (const s of [
      ENFORCE_LABEL,
      PUBLIC_LABEL,
      'overlays/public-verification',
      'publicVerification.enabled',
      'vouch-signing',
    ])
      assert.ok(doc.includes(s), s);
    // the doc's example webhooks are the shipped ones (off or on): same names, paths and selectors
    const shipped = (v: string) => new Map(validatingWebhooks(variant(v)).map((w) => [w.name, w]));
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    const examples = blocks
      .map((b) => parse(b) as Record<string, unknown> | null)
      .filter((o) => o?.kind === 'ValidatingWebhookConfiguration')
      .map((o) => (o?.webhooks ?? []) as Webhook[]);
    assert.equal(examples.length, 2, 'the doc shows the webhooks off and on');
    for (const example of examples) {
      const matches = (v: string) =>
        example.every((w) => {
          const s = shipped(v).get(w.name);
          return (
            s !== undefined &&
            s.clientConfig.service.path === w.clientConfig.service.path &&
            s.clientConfig.service.port === w.clientConfig.service.port &&
            isDeepStrictEqual(s.namespaceSelector, w.namespaceSelector)
          );
        });
      assert.ok(matches('kustomize off') || matches('kustomize on'), example.map((w) => w.name).join(', '));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// End to end: the rendered vouch.yaml under `vouch serve`, two replicas sharing Redis

/** Runs the CLI from source (`vouch …`) in a child process. */
function cli(args: readonly string[], env: Record<string, string>, home: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: home, TMPDIR: tmpdir(), VOUCH_SERVE_NODE_FLAGS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Spawns `vouch serve` and resolves once it says it is serving. */
async function serve(
  args: readonly string[],
  env: Record<string, string>,
  home: string,
): Promise<ChildProcess> {
  const child = cli(args, env, home);
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vouch serve did not start in 60 s:\n${log}`)), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vouch serve exited with ${code}:\n${log}`));
    });
    child.stdout?.resume();
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      log = (log + chunk).slice(-8192);
      if (/vouch: serving on https:\/\//.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
  }).catch(async (err: unknown) => {
    await stopChild(child);
    throw err;
  });
  child.removeAllListeners('exit');
  return child;
}

/** One replica: a `vouch serve` process and the loopback port for each port the manifests name. */
interface Replica {
  child: ChildProcess;
  ports: Map<number, number>;
  dir: string;
}

interface ReplicaInputs {
  objects: K8sObject[];
  pki: TestPki;
  redis: TestRedis;
  /** The Secret's signing key (PKCS#8 PEM), shared by the replicas as the Secret is. */
  signingKeyPem: string;
  /** The vouch-trust ConfigMap's files, as the operator replaced them. */
  trust: Record<string, string>;
  /** The test registry (plain HTTP), added with --insecure-registry. */
  registryHost: string;
}

/**
 * Serves `objects`' vouch.yaml as their Deployment runs a replica: the Deployment's arguments
 * with the serving certificate from `pki`, vouch.yaml with its trust folder and signing key
 * folder (mount paths) pointed at temporary folders holding the ConfigMap's files and the
 * Secret's key, each listen address moved to a free loopback port, and the Redis URL (the
 * Deployment's VOUCH_CACHE__REDIS__URL) pointed at `redis`.
 */
async function startReplica(inputs: ReplicaInputs): Promise<Replica> {
  const { objects, pki, redis } = inputs;
  const dir = await mkdtemp(path.join(tmpdir(), 'vouch-deploy-public-'));
  const c = containerOf(objects);
  const { pv } = publicConfig(objects);
  assert.ok(pv.signingKeyFile);
  const signingMount = path.dirname(pv.signingKeyFile);
  const trustDir = path.join(dir, 'trust');
  const signingDir = path.join(dir, 'signing');
  await mkdir(trustDir);
  await mkdir(signingDir, { mode: 0o700 });
  for (const [n, content] of Object.entries(inputs.trust)) await writeFile(path.join(trustDir, n), content);
  await writeFile(path.join(signingDir, path.basename(pv.signingKeyFile)), inputs.signingKeyPem, {
    mode: 0o400,
  });
  const text = vouchYaml(objects)
    .replaceAll(TRUST_MOUNT, `${trustDir}/`)
    .replaceAll(`${signingMount}/`, `${signingDir}/`);
  const config = parse(text) as Record<string, Record<string, unknown>>;
  const server = config.server as Record<string, unknown>;
  const ports = new Map<number, number>();
  const move = async (listen: string) => {
    const loopback = await freePort();
    ports.set(parseListen(listen).port, loopback);
    return `127.0.0.1:${loopback}`;
  };
  server.probeListen = await move(server.probeListen as string);
  const pvRaw = server.publicVerification as Record<string, unknown>;
  pvRaw.listen = await move(pvRaw.listen as string);
  const configFile = path.join(dir, 'vouch.yaml');
  await writeFile(configFile, stringify(config));
  const serving = await pki.leaf(`server-${path.basename(dir)}`);
  const args: string[] = [];
  for (const [i, a] of c.args.entries()) {
    const prev = c.args[i - 1];
    if (prev === '--config') args.push(configFile);
    else if (prev === '--listen') args.push(await move(a));
    else if (prev === '--tls-cert') args.push(serving.cert);
    else if (prev === '--tls-key') args.push(serving.key);
    else args.push(a);
  }
  assert.equal(args[0], 'serve');
  args.push('--insecure-registry', inputs.registryHost);
  const env: Record<string, string> = {};
  for (const e of c.env) if (e.value !== undefined && !e.value.includes('$(')) env[e.name] = e.value;
  if (c.env.some((e) => e.name === 'VOUCH_CACHE__REDIS__URL')) env.VOUCH_CACHE__REDIS__URL = redis.url;
  const child = await serve(args, env, dir);
  return { child, ports, dir };
}

for (const name of ['kustomize', 'helm'] as const) {
  describe(`${name}, public verification on: the rendered vouch.yaml under vouch serve, two replicas`, () => {
    let objects: K8sObject[] = [];
    let pki: TestPki | undefined;
    let redis: TestRedis | undefined;
    let registry: TestRegistry | undefined;
    let work = '';
    const replicas: Replica[] = [];
    let tlsAgent: Agent | undefined;
    let keyId = '';
    let publicKeyPem = '';
    let image = '';
    let digest = '';
    let notationDir = '';

    /** The loopback URL of `replica` for a port of Service `service` (followed to the container port). */
    function serviceUrl(
      replica: number,
      service: string,
      portName: string,
      scheme: 'http' | 'https',
      p: string,
    ) {
      const r = replicas[replica];
      assert.ok(r);
      const port = targetContainerPort(
        objects,
        find(objects, 'Service', service),
        portName,
        portName === 'public',
      );
      const loopback = r.ports.get(port);
      assert.ok(loopback, `port ${port} is one vouch listens on (${[...r.ports.keys()]})`);
      return `${scheme}://127.0.0.1:${loopback}${p}`;
    }

    async function admit(replica: number, webhookPath: string, containers: Array<[string, string]>) {
      const review = await podReview({ namespace: 'shop', containers });
      const res = await request(serviceUrl(replica, 'vouch', 'https', 'https', webhookPath), {
        method: 'POST',
        dispatcher: tlsAgent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(review),
      });
      const text = await res.body.text();
      return { status: res.statusCode, text, review };
    }

    before(async () => {
      if (!kubectlPresent()) throw new Error('kubectl is required to render the kustomize overlays');
      objects =
        name === 'kustomize'
          ? kustomize(path.join(KUSTOMIZE, 'overlays', 'public-verification'))
          : renderChart(NAMESPACE, { ...chartOn, redis: { enabled: true } });
      work = await mkdtemp(path.join(tmpdir(), 'vouch-deploy-public-reader-'));
      pki = await createPki();
      redis = await startRedis();
      registry = await startRegistry();
      // an image signed with notation by the operator's CA, which replaces the example CA file of
      // the vouch-trust ConfigMap (the rendered trust policy names that file's store)
      const cert = await generateTestCertificate({ name: 'shop.test', keyAlgorithm: 'ec-p256' });
      const client = createRegistryClient({ insecureHosts: [registry.host] });
      const repository = client.repository(parseReference(`${registry.host}/shop/web:v1`));
      const subject = await pushTestImage(repository, 'v1', `shop-web-${name}`);
      await signNotation({
        repository,
        subject,
        keyPem: cert.keyPem,
        certChainPem: cert.certPem,
        envelope: 'jws',
      });
      await client.close();
      image = `${registry.host}/shop/web:v1`;
      digest = subject.digest;
      const trust = { ...trustFiles(objects), 'notation-ca-example.pem': cert.certPem };
      notationDir = await writeNotationDir(path.join(work, 'notation'), cert.certPem, 'shop');
      // the Secret vouch-signing: one key, mounted into every replica
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const signingKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
      keyId = `sha256:${createHash('sha256').update(spki).digest('hex')}`;
      publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
      await writeFile(path.join(work, 'vouch.pub'), publicKeyPem);
      const inputs = { objects, pki, redis, signingKeyPem, trust, registryHost: registry.host };
      replicas.push(...(await Promise.all([startReplica(inputs), startReplica(inputs)])));
      tlsAgent = new Agent({
        connect: { ca: await readFile(path.join(pki.dir, 'ca.crt')), servername: 'localhost' },
      });
    });
    after(async () => {
      await Promise.all(replicas.map((r) => stopChild(r.child)));
      await tlsAgent?.close();
      for (const r of replicas) await rm(r.dir, { recursive: true, force: true });
      if (pki) await rm(pki.dir, { recursive: true, force: true });
      if (work) await rm(work, { recursive: true, force: true });
      await redis?.stop();
      await registry?.stop();
    });

    it("GET /v1/keys through Service vouch-public's port: vouch's key from the mounted Secret, no client certificate", async () => {
      for (const replica of [0, 1]) {
        const res = await request(serviceUrl(replica, 'vouch-public', 'public', 'http', '/v1/keys'), {
          signal: AbortSignal.timeout(10_000),
        });
        assert.equal(res.statusCode, 200);
        const body = (await res.body.json()) as { keys: Array<{ keyid: string; publicKey: string }> };
        assert.equal(body.keys.length, 1);
        assert.equal(body.keys[0]?.keyid, keyId);
        assert.equal(body.keys[0]?.publicKey.trim(), publicKeyPem.trim());
      }
      const pem = await request(serviceUrl(0, 'vouch-public', 'public', 'http', '/v1/keys'), {
        headers: { accept: 'application/x-pem-file' },
      });
      assert.equal(pem.statusCode, 200);
      assert.equal((await pem.body.text()).trim(), publicKeyPem.trim());
    });

    it('the public port is read-only and serves no webhook; a namespace with nothing listed is a 404', async () => {
      const post = await request(
        serviceUrl(0, 'vouch-public', 'public', 'http', '/admission/validate/public'),
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(await podReview({ namespace: 'shop', containers: [] })),
        },
      );
      await post.body.dump();
      assert.equal(post.statusCode, 405);
      assert.match(String(post.headers.allow), /GET/);
      const list = await request(serviceUrl(0, 'vouch-public', 'public', 'http', '/v1/applications/quiet'));
      await list.body.dump();
      assert.equal(list.statusCode, 404);
    });

    it('every webhook path the manifests register is a route vouch serve answers (an unknown option is not)', async () => {
      const paths = new Set(validatingWebhooks(objects).map((w) => w.clientConfig.service.path));
      assert.equal(paths.size, 4);
      for (const p of [...paths, '/admission/validate/bogus']) {
        const { status, text, review } = await admit(0, p, []);
        if (p.endsWith('bogus')) {
          assert.equal(status, 404, text);
          continue;
        }
        assert.equal(status, 200, `${p}: ${text}`);
        const answer = JSON.parse(text) as { response: { uid: string; allowed: boolean } };
        assert.equal(answer.response.uid, (review.request as { uid: string }).uid);
        assert.equal(answer.response.allowed, true, `${p}: a pod without containers`);
      }
    });

    it("admitted through one replica on the public webhook's path, listed and signed by the other (shared Redis)", async () => {
      const webhook = validatingWebhooks(objects).find(
        (w) => pathOptions(w.clientConfig.service.path).join('+') === 'public' && w.name.startsWith('pods.'),
      );
      assert.ok(webhook, 'a pods webhook for namespaces labelled public');
      const { status, text } = await admit(0, webhook.clientConfig.service.path, [['web', image]]);
      assert.equal(status, 200, text);
      assert.equal((JSON.parse(text) as { response: { allowed: boolean } }).response.allowed, true, text);
      let listed: { status: number; body: Uint8Array } = { status: 0, body: new Uint8Array() };
      for (let i = 0; i < 50; i++) {
        const res = await request(serviceUrl(1, 'vouch-public', 'public', 'http', '/v1/applications/shop'));
        listed = { status: res.statusCode, body: new Uint8Array(await res.body.arrayBuffer()) };
        if (listed.status === 200) break;
        await sleep(100);
      }
      assert.equal(listed.status, 200, Buffer.from(listed.body).toString());
      const result = verifyApplications(listed.body, [parsePublicKey(publicKeyPem, 'vouch.pub')]);
      assert.ok(result.ok, JSON.stringify(result));
      assert.equal(result.keyId, keyId);
      assert.equal(result.payload.namespace, 'shop');
      assert.deepEqual(
        result.payload.images.map((i) => [i.container, i.digest]),
        [['web', digest]],
      );
    });

    it('vouch verify URL --public-key re-verifies the listed image under the reader’s own trust', async () => {
      const url = serviceUrl(1, 'vouch-public', 'public', 'http', '/v1/applications/shop');
      const child = cli(
        [
          'verify',
          url,
          '--public-key',
          path.join(work, 'vouch.pub'),
          '--notation-dir',
          notationDir,
          '--insecure-registry',
          registry?.host ?? '',
          '-o',
          'json',
        ],
        {},
        work,
      );
      let out = '';
      let err = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        out += d;
      });
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        err += d;
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 0, `${out}\n${err}`);
      const report = JSON.parse(out) as {
        accepted: boolean;
        images: Array<{ reference: string; result: string }>;
      };
      assert.equal(report.accepted, true);
      assert.deepEqual(
        report.images.map((i) => i.result),
        ['verified'],
      );
    });

    it('the probe listener is ready with the rendered Redis cache', async () => {
      for (const replica of [0, 1]) {
        const res = await request(serviceUrl(replica, 'vouch', 'probes', 'http', '/ready'));
        const body = (await res.body.json()) as {
          checks?: { cache?: { degraded?: boolean; layers?: string[] } };
        };
        assert.equal(res.statusCode, 200, JSON.stringify(body));
        assert.equal(body.checks?.cache?.degraded, false, JSON.stringify(body));
        assert.ok(body.checks?.cache?.layers?.includes('redis'), JSON.stringify(body));
      }
    });
  });
}
