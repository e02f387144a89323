/**
 * AdmissionRequests (`input.review`) as Gatekeeper hands them to a template's Rego, for every kind
 * that carries a pod spec, with the pod spec where that kind keeps it (protocols README §3.2:
 * `spec`, `spec.template.spec`, CronJob's `spec.jobTemplate.spec.template.spec`, PodTemplate's
 * `template.spec`).
 */

/** A pod spec's image lists; each image becomes one container named after its list and index. */
export interface PodImages {
  readonly containers?: readonly string[];
  readonly initContainers?: readonly string[];
  readonly ephemeralContainers?: readonly string[];
}

export const POD_TEMPLATE_KINDS = [
  { group: 'apps', kind: 'Deployment' },
  { group: 'apps', kind: 'StatefulSet' },
  { group: 'apps', kind: 'DaemonSet' },
  { group: 'apps', kind: 'ReplicaSet' },
  { group: 'batch', kind: 'Job' },
  { group: 'batch', kind: 'CronJob' },
  { group: '', kind: 'ReplicationController' },
  { group: '', kind: 'PodTemplate' },
] as const;

export type Kind = 'Pod' | (typeof POD_TEMPLATE_KINDS)[number]['kind'];

function podSpec(images: PodImages): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  for (const list of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    const refs = images[list];
    if (refs === undefined) continue;
    spec[list] = refs.map((image, i) => ({ name: `${list.toLowerCase()}-${i}`, image }));
  }
  if (spec.containers === undefined) spec.containers = [];
  return spec;
}

/** The object's spec for `kind`, with the pod spec at that kind's path. */
function objectSpec(kind: Kind, pod: Record<string, unknown>): Record<string, unknown> {
  const template = { metadata: { labels: { app: 'demo' } }, spec: pod };
  switch (kind) {
    case 'Pod':
      return pod;
    case 'CronJob':
      return { schedule: '*/5 * * * *', jobTemplate: { spec: { template } } };
    case 'Job':
    case 'PodTemplate':
      return { template };
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'ReplicationController':
      return { selector: { matchLabels: { app: 'demo' } }, template };
  }
}

const GROUP: Record<Kind, string> = {
  Pod: '',
  Deployment: 'apps',
  StatefulSet: 'apps',
  DaemonSet: 'apps',
  ReplicaSet: 'apps',
  Job: 'batch',
  CronJob: 'batch',
  ReplicationController: '',
  PodTemplate: '',
};

export interface ReviewOptions {
  readonly namespace?: string;
  /** `kubectl debug`: UPDATE of the `ephemeralcontainers` subresource. */
  readonly subResource?: 'ephemeralcontainers';
}

/** A CREATE (or the ephemeral-containers UPDATE) of `kind` whose pod spec has `images`. */
export function review(kind: Kind, images: PodImages, options: ReviewOptions = {}): Record<string, unknown> {
  const namespace = options.namespace ?? 'default';
  const body = objectSpec(kind, podSpec(images));
  const object = {
    apiVersion: GROUP[kind] ? `${GROUP[kind]}/v1` : 'v1',
    kind,
    metadata: { name: 'demo', namespace },
    // a PodTemplate has no spec: its template is a top-level field
    ...(kind === 'PodTemplate' ? body : { spec: body }),
  };
  const gvk = { group: GROUP[kind], version: 'v1', kind };
  return {
    uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
    kind: gvk,
    resource: { group: GROUP[kind], version: 'v1', resource: `${kind.toLowerCase()}s` },
    name: 'demo',
    namespace,
    operation: options.subResource ? 'UPDATE' : 'CREATE',
    ...(options.subResource ? { subResource: options.subResource } : {}),
    userInfo: { username: 'alice' },
    object,
    oldObject: options.subResource ? object : null,
    dryRun: false,
  };
}
