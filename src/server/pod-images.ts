/**
 * Where the images are in the objects an admission webhook receives (protocols README §3.2):
 * the pod spec path per kind, and `containers`, `initContainers` and `ephemeralContainers` in it.
 * Each image is named by list and container (`ephemeralContainers[debugger]`, §3.6.3) and carries
 * the JSON pointer of its `image` field for the mutating patch (§3.4).
 */

/**
 * Pod spec location per kind (group is not needed: these kind names are unique among built-ins).
 * No prototype: a kind named "constructor" or "hasOwnProperty" must find nothing, not a function.
 */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = Object.assign(
  Object.create(null),
  {
    Pod: ['spec'],
    Deployment: ['spec', 'template', 'spec'],
    ReplicaSet: ['spec', 'template', 'spec'],
    StatefulSet: ['spec', 'template', 'spec'],
    DaemonSet: ['spec', 'template', 'spec'],
    Job: ['spec', 'template', 'spec'],
    ReplicationController: ['spec', 'template', 'spec'],
    CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
    PodTemplate: ['template', 'spec'],
  },
);

export const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;
export type ContainerList = (typeof CONTAINER_LISTS)[number];

export interface PodImage {
  readonly list: ContainerList;
  readonly index: number;
  /** Container name (may be empty in a malformed object). */
  readonly name: string;
  readonly image: string;
  /** JSON pointer of the `image` field, e.g. `/spec/template/spec/containers/1/image`. */
  readonly pointer: string;
}

/** True when vouch knows where this kind keeps its pod spec. */
export function isSupportedKind(kind: string): boolean {
  return Object.hasOwn(POD_SPEC_PATHS, kind);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The images of `object` (of kind `kind`). Containers without an image (allowed in templates) are
 * skipped; a ReplicationController without a template has none.
 */
export function podImages(kind: string, object: unknown): PodImage[] {
  const path = POD_SPEC_PATHS[kind];
  if (!path) return [];
  let spec: unknown = object;
  for (const step of path) {
    if (!isRecord(spec)) return [];
    spec = spec[step];
  }
  if (!isRecord(spec)) return [];
  const base = `/${path.join('/')}`;
  const out: PodImage[] = [];
  for (const list of CONTAINER_LISTS) {
    const containers = spec[list];
    if (!Array.isArray(containers)) continue;
    containers.forEach((c: unknown, index) => {
      if (!isRecord(c)) return;
      const image = c.image;
      if (typeof image !== 'string' || image.trim() === '') return;
      out.push({
        list,
        index,
        name: typeof c.name === 'string' ? c.name : '',
        image,
        pointer: `${base}/${list}/${index}/image`,
      });
    });
  }
  return out;
}

/** `containers[proxy]`: how messages name an image's place. */
export function placeOf(img: PodImage): string {
  return `${img.list}[${img.name || img.index}]`;
}
