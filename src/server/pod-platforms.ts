/**
 * The platforms a workload says it runs on, for multi-arch rules in admission: the pod spec's
 * `nodeSelector` (`kubernetes.io/os`, `kubernetes.io/arch`) and its required node affinity on the
 * same labels (`In` expressions; each allowed value is a platform to verify). A spec that says
 * nothing yields undefined: the server's `platforms` setting applies (default `[linux/amd64]`).
 */
import { POD_SPEC_PATHS } from './pod-images.js';

const OS = 'kubernetes.io/os';
const ARCH = 'kubernetes.io/arch';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function podSpec(kind: string, object: unknown): Record<string, unknown> | undefined {
  const path = POD_SPEC_PATHS[kind];
  if (!path) return undefined;
  let spec: unknown = object;
  for (const step of path) {
    if (!isRecord(spec)) return undefined;
    spec = spec[step];
  }
  return isRecord(spec) ? spec : undefined;
}

/** Values a label may take per the required node affinity (union over terms, `In` only). */
function affinityValues(spec: Record<string, unknown>, label: string): string[] {
  const required = (
    spec.affinity as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: unknown } }
  )?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const terms =
    isRecord(required) && Array.isArray(required.nodeSelectorTerms) ? required.nodeSelectorTerms : [];
  const out: string[] = [];
  for (const term of terms) {
    const exprs = isRecord(term) && Array.isArray(term.matchExpressions) ? term.matchExpressions : [];
    for (const e of exprs) {
      if (!isRecord(e) || e.key !== label || e.operator !== 'In' || !Array.isArray(e.values)) continue;
      for (const v of e.values) if (typeof v === 'string' && v !== '') out.push(v);
    }
  }
  return out;
}

function valuesFor(spec: Record<string, unknown>, label: string): string[] {
  const selector = isRecord(spec.nodeSelector) ? spec.nodeSelector[label] : undefined;
  // a nodeSelector pins the value; affinity lists the allowed ones
  if (typeof selector === 'string' && selector !== '') return [selector];
  return [...new Set(affinityValues(spec, label))];
}

/** `os/arch` platforms the pod spec of `object` asks for, or undefined when it asks for none. */
export function podPlatforms(kind: string, object: unknown): string[] | undefined {
  const spec = podSpec(kind, object);
  if (!spec) return undefined;
  const oses = valuesFor(spec, OS);
  const arches = valuesFor(spec, ARCH);
  if (oses.length === 0 && arches.length === 0) return undefined;
  const os = oses.length > 0 ? oses : ['linux'];
  const arch = arches.length > 0 ? arches : ['amd64'];
  return os.flatMap((o) => arch.map((a) => `${o}/${a}`)).sort();
}
