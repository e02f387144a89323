/**
 * deploy/helm/vouch renders (with the in-test Go-template renderer; no Helm binary here) the same
 * objects as the kustomize overlays: same kinds and names, ports, probes, args, mounts, Provider
 * and webhook specs, and the same vouch.yaml and trust material. The chart's files/ are copies
 * of the kustomize Gatekeeper objects and must stay identical.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { renderTemplate, type TemplateContext } from './gotemplate.js';
import {
  CHART,
  field,
  find,
  identities,
  type K8sObject,
  KUSTOMIZE,
  kustomize,
  ROOT,
  renderChart,
  stripHash,
} from './manifests.js';
import { validateObject } from './schemas.js';

const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;

/** The parts of the vouch Deployment that must match, with generated ConfigMap names unhashed. */
function deploymentShape(objects: K8sObject[]): unknown {
  const d = find(objects, 'Deployment', 'vouch');
  const pod = structuredClone(field(d, 'spec', 'template', 'spec')) as Record<string, unknown>;
  for (const v of pod.volumes as Array<{ configMap?: { name: string } }>) {
    if (v.configMap) v.configMap.name = stripHash(v.configMap.name);
  }
  return {
    replicas: field(d, 'spec', 'replicas'),
    selector: field(d, 'spec', 'selector'),
    podMetadata: field(d, 'spec', 'template', 'metadata'),
    pod,
  };
}

function configData(objects: K8sObject[], name: string): Record<string, string> {
  const cm = objects.find((o) => o.kind === 'ConfigMap' && stripHash(o.metadata.name) === name);
  assert.ok(cm, `ConfigMap ${name}`);
  return field(cm, 'data') as Record<string, string>;
}

function compare(chart: K8sObject[], kust: K8sObject[]): void {
  assert.deepEqual(identities(chart), identities(kust));
  assert.deepEqual(deploymentShape(chart), deploymentShape(kust));
  for (const obj of kust) {
    if (
      [
        'Service',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'Provider',
        'ConstraintTemplate',
        'Assign',
      ].includes(obj.kind)
    ) {
      assert.deepEqual(
        field(find(chart, obj.kind, obj.metadata.name), 'spec'),
        field(obj, 'spec'),
        `${obj.kind}/${obj.metadata.name}`,
      );
    }
    if (obj.kind.endsWith('WebhookConfiguration')) {
      assert.deepEqual(
        field(find(chart, obj.kind, obj.metadata.name), 'webhooks'),
        field(obj, 'webhooks'),
        obj.kind,
      );
    }
    if (obj.kind === 'Deployment' && obj.metadata.name === 'vouch-redis') {
      assert.deepEqual(field(find(chart, 'Deployment', 'vouch-redis'), 'spec'), field(obj, 'spec'));
    }
  }
  assert.deepEqual(
    parse(configData(chart, 'vouch-config')['vouch.yaml'] ?? ''),
    parse(configData(kust, 'vouch-config')['vouch.yaml'] ?? ''),
  );
  assert.deepEqual(configData(chart, 'vouch-trust'), configData(kust, 'vouch-trust'));
}

describe('Helm chart deploy/helm/vouch', () => {
  it('Chart.yaml names the chart and the app version of package.json', () => {
    const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.name, 'vouch');
    assert.equal(chart.appVersion, pkg.version);
    assert.equal(field(values, 'image', 'tag'), pkg.version);
  });

  it('files/ are identical copies of the kustomize Gatekeeper objects', () => {
    const pairs: Array<[string, string]> = [
      ['ct-signature-required.yaml', 'templates/vouch-signature-required.yaml'],
      ['ct-trusted-did.yaml', 'templates/vouch-trusted-did.yaml'],
      ['ct-production-namespaces.yaml', 'templates/vouch-production-namespaces.yaml'],
      ['ct-ratify-compatible.yaml', 'templates/vouch-ratify-compatible.yaml'],
      ['constraints.yaml', 'constraints/constraints.yaml'],
      ['assign-pin-digests.yaml', 'mutation/assign-pin-digests.yaml'],
    ];
    assert.deepEqual(
      readdirSync(join(CHART, 'files'))
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
      pairs.map((p) => p[0]).sort(),
    );
    for (const [copy, original] of pairs) {
      assert.equal(
        readFileSync(join(CHART, 'files', copy), 'utf8'),
        readFileSync(join(KUSTOMIZE, 'gatekeeper', original), 'utf8'),
        `files/${copy} differs from deploy/kubernetes/gatekeeper/${original}: copy it again`,
      );
    }
  });

  it('gatekeeper mode renders what overlays/gatekeeper renders', () => {
    const chart = renderChart('gatekeeper-system', { gatekeeper: { constraints: true } });
    compare(chart, kustomize(join(KUSTOMIZE, 'overlays', 'gatekeeper')));
  });

  it('gatekeeper mode with Redis and 3 replicas renders what overlays/ha renders', () => {
    const chart = renderChart('gatekeeper-system', {
      gatekeeper: { constraints: true },
      redis: { enabled: true },
      replicas: 3,
    });
    compare(chart, kustomize(join(KUSTOMIZE, 'overlays', 'ha')));
  });

  it("admission mode renders what overlays/admission renders (the Namespace is Helm's --create-namespace)", () => {
    const chart = renderChart('vouch-system', { mode: 'admission', clientCA: { enabled: false } });
    const kust = kustomize(join(KUSTOMIZE, 'overlays', 'admission')).filter((o) => o.kind !== 'Namespace');
    compare(chart, kust);
  });

  it('every rendered object validates, in each mode and option', () => {
    const variants: Array<[string, Record<string, unknown>]> = [
      ['gatekeeper-system', {}],
      ['gatekeeper-system', { gatekeeper: { constraints: true, mutation: false }, redis: { enabled: true } }],
      [
        'vouch-system',
        { mode: 'admission', clientCA: { enabled: false }, tls: { certManager: { enabled: true } } },
      ],
    ];
    for (const [ns, overrides] of variants) {
      const objects = renderChart(ns, overrides);
      assert.ok(objects.length >= 7);
      for (const obj of objects) validateObject(obj);
    }
  });

  it('defaults: constraints off (their CRDs appear only after Gatekeeper reads the templates), mutation on', () => {
    const objects = renderChart('gatekeeper-system', {});
    assert.ok(!objects.some((o) => o.apiVersion.startsWith('constraints.gatekeeper.sh/')));
    assert.equal(objects.filter((o) => o.kind === 'Assign').length, 9);
    assert.equal(objects.filter((o) => o.kind === 'ConstraintTemplate').length, 4);
    assert.ok(!objects.some((o) => o.kind.endsWith('WebhookConfiguration')));
  });

  it('cert-manager: a Certificate with both SANs, and the CA injected into the webhooks', () => {
    const objects = renderChart('vouch-system', {
      mode: 'admission',
      tls: { certManager: { enabled: true } },
    });
    const cert = find(objects, 'Certificate', 'vouch-serving');
    assert.deepEqual(field(cert, 'spec', 'dnsNames'), ['vouch.vouch-system', 'vouch.vouch-system.svc']);
    assert.equal(field(cert, 'spec', 'secretName'), 'vouch-tls');
    for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
      assert.equal(
        find(objects, kind, 'vouch').metadata.annotations?.['cert-manager.io/inject-ca-from'],
        'vouch-system/vouch-serving',
      );
    }
  });

  it('probes.metricsFrom sets who may reach the probe listener (8081) in the NetworkPolicy', () => {
    const peers = [
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } } },
    ];
    const objects = renderChart('gatekeeper-system', { probes: { metricsFrom: peers } });
    const ingress = field(find(objects, 'NetworkPolicy', 'vouch'), 'spec', 'ingress') as unknown[];
    assert.deepEqual(ingress[1], { from: peers, ports: [{ protocol: 'TCP', port: 8081 }] });
    assert.equal(field(ingress[0], 'ports', 0, 'port'), 8443);
  });

  it('budgets and timeouts come from values and keep their order', () => {
    const objects = renderChart('vouch-system', {
      mode: 'admission',
      config: { server: { budgets: { validateMs: 4000, mutateMs: 1500 } } },
      webhookTimeoutSeconds: { validate: 7, mutate: 4 },
    });
    const vouchYaml = parse(configData(objects, 'vouch-config')['vouch.yaml'] ?? '');
    assert.deepEqual(field(vouchYaml, 'server', 'budgets'), { validateMs: 4000, mutateMs: 1500 });
    assert.equal(
      field(find(objects, 'ValidatingWebhookConfiguration', 'vouch'), 'webhooks', 0, 'timeoutSeconds'),
      7,
    );
    assert.equal(
      field(find(objects, 'MutatingWebhookConfiguration', 'vouch'), 'webhooks', 0, 'timeoutSeconds'),
      4,
    );
  });
});

describe('the Go-template subset renderer', () => {
  const ctx: TemplateContext = {
    Values: { mode: 'a', on: true, off: false, list: [], obj: { k: 'v' }, n: 3 },
    Release: { Name: 'r', Namespace: 'ns' },
    Chart: { AppVersion: '1.0' },
    readFile: (p) => `file:${p}`,
  };

  it('trims whitespace around {{- and -}} and evaluates if/else/eq/not/and/or', () => {
    assert.equal(renderTemplate('a\n  {{- if .Values.on }}\nyes{{ else }}no{{ end }}', ctx), 'a\nyes');
    assert.equal(renderTemplate('{{ if eq .Values.mode "b" }}b{{ else }}not-b{{ end }}', ctx), 'not-b');
    assert.equal(renderTemplate('{{ if not .Values.list }}empty{{ end }}', ctx), 'empty');
    assert.equal(renderTemplate('{{ if and .Values.on .Values.off }}x{{ else }}y{{ end }}', ctx), 'y');
    assert.equal(renderTemplate('{{ if or .Values.off .Values.n }}x{{ end }}', ctx), 'x');
    assert.equal(renderTemplate('x {{- " y" -}}   z', ctx), 'x yz');
  });

  it('pipes values through quote, toYaml, nindent; reads .Release, .Chart and .Files.Get', () => {
    assert.equal(renderTemplate('{{ .Release.Namespace | quote }}', ctx), '"ns"');
    assert.equal(renderTemplate('k:{{ toYaml .Values.obj | nindent 2 }}', ctx), 'k:\n  k: v');
    assert.equal(renderTemplate('{{ .Chart.AppVersion }}/{{ .Files.Get "f.yaml" }}', ctx), '1.0/file:f.yaml');
  });

  it('refuses what it does not implement and values that are missing or not scalars', () => {
    assert.throws(() => renderTemplate('{{ range .Values.list }}{{ end }}', ctx), /unsupported/);
    assert.throws(() => renderTemplate('{{ include "x" . }}', ctx), /unsupported/);
    assert.throws(() => renderTemplate('{{ .Values.missing }}', ctx), /not set/);
    assert.throws(() => renderTemplate('{{ .Values.obj }}', ctx), /toYaml/);
    assert.throws(() => renderTemplate('{{ if .Values.on }}x', ctx), /end/);
  });
});
