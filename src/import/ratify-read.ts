/**
 * Reads Ratify v1's two configuration forms into one model: the CLI's config.json (`store`,
 * `policy`, `verifier`, `executor`; Ratify config/config.go) and the v1beta1 custom resources
 * (`config.ratify.deislabs.io/v1beta1` Store, Verifier, Policy, KeyManagementProvider,
 * CertificateStore and their Namespaced forms; api/v1beta1/*_types.go), from YAML files that may
 * hold several documents or a List. Only the shape is read here; ratify.ts maps it to vouch.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { VouchError } from '../errors.js';
import { asObject, asStringList } from './result.js';

const MAX_INPUT_BYTES = 1024 * 1024;
const API_GROUP = 'config.ratify.deislabs.io';

/** Fields every Ratify plugin config has beside its parameters. */
export const PLUGIN_COMMON_FIELDS = ['name', 'type', 'artifactTypes', 'version', 'address', 'source'];

export interface RatifyStore {
  readonly where: string;
  readonly name: string;
  readonly params: Record<string, unknown>;
}

export interface RatifyVerifier {
  readonly where: string;
  /** The verifier's name (shown in Ratify's reports). */
  readonly name: string;
  /** The verifier's type: `type`, else `name` (Ratify picks the plugin by it). */
  readonly type: string;
  readonly artifactTypes: readonly string[];
  /** Everything but the common fields. */
  readonly params: Record<string, unknown>;
  /** Common fields vouch does not use (plugin download: version, address, source). */
  readonly pluginFields: readonly string[];
}

export interface RatifyPolicy {
  readonly where: string;
  /** Lower-cased, dashes removed: `configpolicy` or `regopolicy` for the built-in ones. */
  readonly type: string;
  readonly params: Record<string, unknown>;
}

/** A KeyManagementProvider or (deprecated) CertificateStore holding certificates or keys. */
export interface RatifyKeyProvider {
  readonly where: string;
  readonly name: string;
  readonly namespace?: string;
  readonly type: string;
  readonly params: Record<string, unknown>;
}

export interface RatifyModel {
  readonly stores: RatifyStore[];
  readonly verifiers: RatifyVerifier[];
  readonly policies: RatifyPolicy[];
  readonly keyProviders: RatifyKeyProvider[];
  /** Sections and fields read but not carried over, with where they were. */
  readonly ignored: Array<{ where: string; field: string; why: string }>;
  /** Constructs that cannot be read at all. */
  readonly unreadable: Array<{ field: string; reason: string }>;
  /** Folder of each input, to resolve relative paths (`where` → folder). */
  readonly baseDirs: Map<string, string>;
}

export function emptyModel(): RatifyModel {
  return {
    stores: [],
    verifiers: [],
    policies: [],
    keyProviders: [],
    ignored: [],
    unreadable: [],
    baseDirs: new Map(),
  };
}

/** Reads every file into one model. */
export async function readRatifyFiles(files: readonly string[]): Promise<RatifyModel> {
  const model = emptyModel();
  for (const file of files) await readRatifyFile(file, model);
  return model;
}

async function readText(file: string): Promise<string> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new VouchError('USAGE', `${file}: not found`);
  }
  if (size > MAX_INPUT_BYTES) throw new VouchError('CONFIG_INVALID', `${file}: larger than 1 MiB`);
  return readFile(file, 'utf8');
}

async function readRatifyFile(file: string, model: RatifyModel): Promise<void> {
  const text = await readText(file);
  const dir = path.dirname(path.resolve(file));
  // inputs are named by their file name; two of one name in different folders by their path
  const base = path.basename(file);
  const taken = [...model.baseDirs].some(([w, d]) => w.startsWith(base) && d !== dir);
  const name = taken ? file : base;
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  let index = 0;
  for (const doc of list) {
    if (doc.errors.length > 0)
      throw new VouchError(
        'CONFIG_INVALID',
        `${file}: not valid JSON or YAML: ${doc.errors[0]?.message.split('\n')[0]}`,
      );
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    const where = list.length > 1 ? `${name}[${index}]` : name;
    index++;
    if (value === null || value === undefined) continue;
    const obj = asObject(value);
    if (!obj) throw new VouchError('CONFIG_INVALID', `${where}: the top level must be a mapping`);
    model.baseDirs.set(where, dir);
    if (typeof obj.apiVersion === 'string' || typeof obj.kind === 'string')
      readResource(obj, where, model, dir);
    else readConfigJson(obj, where, model);
  }
}

/** Ratify's config.json (config/config.go `Config`). */
function readConfigJson(obj: Record<string, unknown>, where: string, model: RatifyModel): void {
  for (const [key, value] of Object.entries(obj)) {
    switch (key) {
      case 'store': {
        const plugins = asObject(value)?.plugins;
        if (!Array.isArray(plugins)) {
          model.unreadable.push({ field: `${where}: store.plugins`, reason: 'must be a list of stores' });
          break;
        }
        plugins.forEach((p, i) => {
          const o = asObject(p) ?? {};
          const { name, ...params } = o;
          model.stores.push({ where: `${where}: store.plugins[${i}]`, name: String(name ?? ''), params });
        });
        break;
      }
      case 'verifier': {
        const plugins = asObject(value)?.plugins;
        if (!Array.isArray(plugins)) {
          model.unreadable.push({
            field: `${where}: verifier.plugins`,
            reason: 'must be a list of verifiers',
          });
          break;
        }
        plugins.forEach((p, i) => {
          model.verifiers.push(verifierOf(asObject(p) ?? {}, `${where}: verifier.plugins[${i}]`));
        });
        break;
      }
      case 'policy': {
        const plugin = asObject(asObject(value)?.plugin);
        if (!plugin) {
          model.unreadable.push({ field: `${where}: policy.plugin`, reason: 'must be a mapping' });
          break;
        }
        const { name, ...params } = plugin;
        model.policies.push({ where: `${where}: policy.plugin`, type: policyType(name), params });
        break;
      }
      case 'crl':
        model.ignored.push({
          where,
          field: key,
          why: "Ratify's CRL cache switch; vouch's revocation checks follow the trust policy (verifiers.notation.revocation)",
        });
        break;
      case 'executor':
      case 'logger':
      case 'metricsEnabled':
      case 'metricsType':
      case 'metricsPort':
        model.ignored.push({
          where,
          field: key,
          why: "Ratify's own runtime settings; vouch's engine and server sections have their own",
        });
        break;
      default:
        model.unreadable.push({ field: `${where}: ${key}`, reason: 'not a section of Ratify config.json' });
    }
  }
}

function verifierOf(o: Record<string, unknown>, where: string): RatifyVerifier {
  const name = typeof o.name === 'string' ? o.name : '';
  const type = typeof o.type === 'string' && o.type !== '' ? o.type : name;
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!PLUGIN_COMMON_FIELDS.includes(k)) params[k] = v;
  const pluginFields = ['version', 'address', 'source'].filter((k) => o[k] !== undefined);
  return { where, name, type, artifactTypes: asStringList(o.artifactTypes), params, pluginFields };
}

function policyType(name: unknown): string {
  return String(name ?? '')
    .toLowerCase()
    .replace(/-/g, '');
}

/** One v1beta1 custom resource (or a List of them). */
function readResource(obj: Record<string, unknown>, where: string, model: RatifyModel, dir: string): void {
  const kind = String(obj.kind ?? '');
  if (kind === 'List' && Array.isArray(obj.items)) {
    obj.items.forEach((item, i) => {
      const w = `${where}.items[${i}]`;
      model.baseDirs.set(w, dir);
      readResource(asObject(item) ?? {}, w, model, dir);
    });
    return;
  }
  const apiVersion = String(obj.apiVersion ?? '');
  const meta = asObject(obj.metadata) ?? {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : undefined;
  const at = `${where} (${kind} ${name})`;
  model.baseDirs.set(at, dir);
  if (apiVersion !== `${API_GROUP}/v1beta1`) {
    model.unreadable.push({
      field: `${at}: apiVersion ${apiVersion}`,
      reason: `vouch reads ${API_GROUP}/v1beta1 resources (convert older ones with Ratify's v1beta1 CRDs)`,
    });
    return;
  }
  const spec = asObject(obj.spec) ?? {};
  const params = asObject(spec.parameters) ?? {};
  switch (kind) {
    case 'Verifier':
    case 'NamespacedVerifier': {
      const v = verifierOf({ ...params, ...pick(spec, PLUGIN_COMMON_FIELDS) }, at);
      model.verifiers.push(v);
      break;
    }
    case 'Store':
    case 'NamespacedStore':
      model.stores.push({ where: at, name: String(spec.name ?? ''), params });
      for (const k of ['version', 'address', 'source'])
        if (spec[k] !== undefined)
          model.ignored.push({
            where: at,
            field: `spec.${k}`,
            why: 'plugin download: vouch runs no store plugins',
          });
      break;
    case 'Policy':
    case 'NamespacedPolicy':
      model.policies.push({ where: at, type: policyType(spec.type), params });
      break;
    case 'KeyManagementProvider':
    case 'NamespacedKeyManagementProvider':
      model.keyProviders.push({
        where: at,
        name,
        ...(namespace ? { namespace } : {}),
        type: String(spec.type ?? ''),
        params,
      });
      if (spec.refreshInterval !== undefined)
        model.ignored.push({
          where: at,
          field: 'spec.refreshInterval',
          why: 'inline material is read once, at start',
        });
      break;
    case 'CertificateStore':
      model.keyProviders.push({
        where: at,
        name,
        ...(namespace ? { namespace } : {}),
        type: String(spec.provider ?? ''),
        params: { contentType: 'certificate', ...params },
      });
      break;
    default:
      model.unreadable.push({
        field: `${at}: kind ${kind}`,
        reason: 'not a Ratify v1beta1 resource vouch reads',
      });
  }
}

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
