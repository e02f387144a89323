/**
 * Shared helpers for the deploy tests: where the manifests are, rendering kustomize overlays with
 * kubectl and the Helm chart with the in-test renderer, and picking objects out of the result.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { renderTemplate } from './gotemplate.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEPLOY = join(ROOT, 'deploy');
export const KUSTOMIZE = join(DEPLOY, 'kubernetes');
export const CHART = join(DEPLOY, 'helm', 'vouch');
export const OVERLAYS = ['gatekeeper', 'admission', 'ha', 'public-verification'] as const;
export type Overlay = (typeof OVERLAYS)[number];

/** A Kubernetes object as parsed from YAML; fields are read through `field()`. */
export type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
};

/** Every YAML file under a directory (recursively), as paths relative to the repository root. */
export function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...yamlFiles(path));
    else if (/\.ya?ml$/.test(entry)) out.push(relative(ROOT, path));
  }
  return out.sort();
}

/** Parses a multi-document YAML text; throws on the first syntax error, naming `where`. */
export function parseDocuments(text: string, where: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text, { uniqueKeys: true })) {
    if (doc.errors.length > 0) throw new Error(`${where}: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    objects.push(value as K8sObject);
  }
  return objects;
}

/** `kubectl kustomize <dir>` parsed into objects. */
export function kustomize(dir: string): K8sObject[] {
  const text = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  return parseDocuments(text, `kubectl kustomize ${relative(ROOT, dir)}`);
}

export function kubectlPresent(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** Deep-merges `override` into `base` (objects merge, everything else replaces), like Helm's --set. */
export function mergeValues(base: unknown, override: unknown): unknown {
  if (
    base === null ||
    override === null ||
    typeof base !== 'object' ||
    typeof override !== 'object' ||
    Array.isArray(base) ||
    Array.isArray(override)
  ) {
    return override === undefined ? base : override;
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(override)) out[key] = mergeValues(out[key], value);
  return out;
}

/** Renders every template of deploy/helm/vouch with values.yaml plus `overrides`. */
export function renderChart(namespace: string, overrides: Record<string, unknown>): K8sObject[] {
  const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  const defaults = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const ctx = {
    Values: mergeValues(defaults, overrides) as Record<string, unknown>,
    Release: { Name: 'vouch', Namespace: namespace },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
    readFile: (path: string) => readFileSync(join(CHART, path), 'utf8'),
  };
  const objects: K8sObject[] = [];
  const dir = join(CHART, 'templates');
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.yaml')) continue;
    const text = renderTemplate(readFileSync(join(dir, file), 'utf8'), ctx);
    objects.push(...parseDocuments(text, `chart template ${file}`));
  }
  return objects;
}

/** Reads a nested field, e.g. field(obj, 'spec', 'template', 'spec'). */
export function field(value: unknown, ...path: Array<string | number>): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(
      `no ${kind}/${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`,
    );
  return found;
}

/** Kind/name pairs, with kustomize's generated-name hash suffix removed from ConfigMaps. */
export function identities(objects: K8sObject[]): string[] {
  return objects
    .map((o) => `${o.kind}/${o.kind === 'ConfigMap' ? stripHash(o.metadata.name) : o.metadata.name}`)
    .sort();
}

/** Removes kustomize's configMapGenerator hash suffix (use on generated ConfigMap names only). */
export function stripHash(name: string): string {
  return name.replace(/-[a-z0-9]{10}$/, '');
}
