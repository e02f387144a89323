/**
 * sigstore policy-controller ClusterImagePolicy objects (policy.sigstore.dev v1alpha1/v1beta1,
 * pkg/apis/policy/v1beta1/clusterimagepolicy_types.go) as vouch policy rules and cosign scopes.
 *
 * policy-controller's semantics (pkg/webhook/validator.go): an image must satisfy EVERY policy whose
 * `images` globs match it; a policy is satisfied when ANY of its authorities is. vouch decides an
 * image by its most specific rule, so one rule per policy, with the policy's authorities as the
 * cosign settings of its scopes; two policies with the same glob cannot be expressed.
 * Globs (pkg/apis/glob/glob.go): `*` any run without `/`, `**` any run; `*` alone means
 * `index.docker.io/library/*`, `*\/*` `index.docker.io/*\/*`; vouch scopes match the same way.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { VouchError } from '../errors.js';
import { compileScope, scopeMatches } from '../policy/scope.js';
import { asObject, ImportBuilder, type ImportResult } from './result.js';

const MAX_INPUT_BYTES = 1024 * 1024;
const PUBLIC_FULCIO = 'https://fulcio.sigstore.dev';
const PUBLIC_REKOR = 'https://rekor.sigstore.dev';
const PUBLIC_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';

/** cosign's predicate type names (cosign pkg/cosign/attestation, options/predicate.go). */
const PREDICATE_TYPES: Readonly<Record<string, string>> = {
  custom: 'https://cosign.sigstore.dev/attestation/v1',
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  link: 'https://in-toto.io/Link/v1',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  openvex: 'https://openvex.dev/ns',
};

export interface PolicyControllerImportOptions {
  readonly outDir: string;
  /** sigstore TUF cache folder (relative to outDir or absolute); default `sigstore-tuf`. */
  readonly tufCacheDir?: string;
}

interface Cip {
  readonly where: string;
  readonly name: string;
  readonly spec: Record<string, unknown>;
}

export async function importPolicyControllerFiles(
  files: readonly string[],
  options: PolicyControllerImportOptions,
): Promise<ImportResult> {
  if (files.length === 0) throw new VouchError('USAGE', 'name at least one ClusterImagePolicy file');
  const cips: Cip[] = [];
  const b = new ImportBuilder(options.outDir);
  for (const file of files) await readCips(file, cips, b);
  return importClusterImagePolicies(cips, b, options, files.join(', '));
}

async function readCips(file: string, out: Cip[], b: ImportBuilder): Promise<void> {
  const size = await stat(file).then(
    (s) => s.size,
    () => {
      throw new VouchError('USAGE', `${file}: not found`);
    },
  );
  if (size > MAX_INPUT_BYTES) throw new VouchError('CONFIG_INVALID', `${file}: larger than 1 MiB`);
  const docs = parseAllDocuments(await readFile(file, 'utf8'));
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    if (doc.errors.length > 0)
      throw new VouchError(
        'CONFIG_INVALID',
        `${file}: not valid YAML: ${doc.errors[0]?.message.split('\n')[0]}`,
      );
    const obj = asObject(doc.toJS({ maxAliasCount: 100 }));
    if (!obj) return;
    const items = obj.kind === 'ClusterImagePolicyList' || obj.kind === 'List' ? obj.items : [obj];
    (Array.isArray(items) ? items : []).forEach((item, j) => {
      const o = asObject(item) ?? {};
      const name = String(asObject(o.metadata)?.name ?? `policy-${out.length + 1}`);
      const where = `${path.basename(file)}${list.length > 1 ? `[${i}]` : ''}${items === obj.items ? `.items[${j}]` : ''} (${name})`;
      if (
        o.kind !== 'ClusterImagePolicy' ||
        !/^policy\.sigstore\.dev\/v1(alpha1|beta1)$/.test(String(o.apiVersion))
      ) {
        b.unsupportedField(
          `${where}: ${String(o.apiVersion)} ${String(o.kind)}`,
          'not a policy.sigstore.dev ClusterImagePolicy',
        );
        return;
      }
      out.push({ where, name, spec: asObject(o.spec) ?? {} });
    });
  });
}

/** A policy-controller glob as a vouch scope, or undefined (with the reason recorded). */
export function scopeFromGlob(glob: string): { scope?: string; reason?: string } {
  let g = glob === '*' ? 'index.docker.io/library/*' : glob === '*/*' ? 'index.docker.io/*/*' : glob;
  if (g === '**') return { scope: '**' };
  g = g.replace(/^index\.docker\.io\//, 'docker.io/');
  const slash = g.indexOf('/');
  const first = slash < 0 ? g : g.slice(0, slash);
  if (
    slash < 0 ||
    !(first.includes('.') || first.includes(':') || first === 'localhost' || first.includes('*'))
  )
    g = slash < 0 ? `docker.io/library/${g}` : `docker.io/${g}`; // pod specs name Docker Hub images short
  const lastSlash = g.lastIndexOf('/');
  const last = g.slice(lastSlash + 1);
  if (last.includes('@')) return { reason: 'names a digest; vouch scopes name repositories' };
  const colon = last.indexOf(':');
  if (colon >= 0) {
    const tag = last.slice(colon + 1);
    if (tag !== '*' && tag !== '**')
      return { reason: `names tag "${tag}"; vouch scopes name repositories (every tag)` };
    g = g.slice(0, lastSlash + 1 + colon);
  }
  return { scope: g };
}

export function importClusterImagePolicies(
  cips: readonly Cip[],
  b: ImportBuilder,
  options: PolicyControllerImportOptions,
  source: string,
): ImportResult {
  b.header.push(
    `Generated by \`vouch import policy-controller\` from ${source}.`,
    'One rule per ClusterImagePolicy; its authorities become the cosign settings of its scopes.',
    "Images no rule matches are denied (policy-controller's no-match-policy default, deny).",
  );
  const cosign: Record<string, unknown> = {};
  const scoped: Array<Record<string, unknown>> = [];
  const rules: Array<Record<string, unknown>> = [];
  const staticFail: Array<{ where: string; scopes: string[] }> = [];
  const seen = new Map<string, string>();
  for (const cip of cips) {
    const scopes: string[] = [];
    const images = Array.isArray(cip.spec.images) ? cip.spec.images : [];
    images.forEach((img, i) => {
      const scope = imageScope(b, cip, asObject(img)?.glob, i);
      if (!scope) return;
      const other = seen.get(scope);
      if (other) {
        b.unsupportedField(
          `${cip.where}: images[${i}] (${scope})`,
          `also in ${other}: policy-controller requires both policies, vouch decides by one rule per scope`,
        );
        return;
      }
      seen.set(scope, cip.where);
      scopes.push(scope);
    });
    for (const k of Object.keys(cip.spec))
      if (!['images', 'authorities', 'mode', 'policy', 'match'].includes(k))
        b.unsupportedField(`${cip.where}: spec.${k}`, 'not a ClusterImagePolicy field vouch knows');
    if (cip.spec.policy !== undefined)
      b.unsupportedField(
        `${cip.where}: spec.policy (${String(asObject(cip.spec.policy)?.type)})`,
        'CUE/Rego policy bodies: vouch has no policy language',
      );
    if (cip.spec.match !== undefined)
      b.unsupportedField(
        `${cip.where}: spec.match`,
        'resource and label selectors: vouch decides by image, not by the Kubernetes object',
      );
    const mode = cip.spec.mode ?? 'enforce';
    if (mode !== 'enforce' && mode !== 'warn')
      b.unsupportedField(`${cip.where}: mode ${String(mode)}`, 'enforce or warn');
    if (scopes.length === 0) continue;
    const auth = authorities(b, cip, options);
    if (!auth) continue;
    const rule: Record<string, unknown> = {
      name: cip.name,
      scope: scopes.length === 1 ? scopes[0] : scopes,
      mode: mode === 'warn' ? 'audit' : 'enforce',
    };
    const ruleAt = ['policy', 'rules', rules.length];
    if (auth.kind === 'fail') {
      staticFail.push({ where: cip.where, scopes });
      b.header.push(`${cip.where}: static fail: no rule, so policy.default (deny) denies these images`);
      continue;
    }
    if (auth.kind === 'pass') {
      rule.require = [];
      b.note(ruleAt, `from ${cip.where}: static pass`);
    } else {
      rule.require = [{ verifier: 'cosign' }];
      for (const scope of scopes) scoped.push({ scope, ...auth.fields });
      if (auth.tuf)
        cosign.tuf = { mirror: PUBLIC_TUF_MIRROR, cacheDir: options.tufCacheDir ?? 'sigstore-tuf' };
      b.note(ruleAt, `from ${cip.where}${mode === 'warn' ? ' (mode warn → audit)' : ''}: ${auth.summary}`);
    }
    rules.push(rule);
  }
  for (const f of staticFail)
    for (const r of rules)
      for (const s of [r.scope].flat() as string[])
        if (f.scopes.some((fs) => scopeMatches(compileScope(s), fs.replace(/\*+/g, 'x'))))
          b.unsupportedField(
            `${f.where}: static fail`,
            `images it denies also match rule "${String(r.name)}" (${s}), which vouch would apply`,
          );
  if (scoped.length > 0) {
    cosign.policies = scoped;
    b.config.verifiers = { cosign };
    b.note(['verifiers', 'cosign', 'policies'], 'one entry per ClusterImagePolicy glob: its authorities');
    if (cosign.tuf)
      b.note(
        ['verifiers', 'cosign', 'tuf'],
        'the public sigstore trusted root; run `vouch trust-refresh --config <this file>` once to fill cacheDir',
      );
  }
  b.config.policy = { default: 'deny', rules };
  return b.result();
}

function imageScope(b: ImportBuilder, cip: Cip, glob: unknown, i: number): string | undefined {
  if (typeof glob !== 'string') {
    b.unsupportedField(`${cip.where}: images[${i}]`, 'needs a glob');
    return undefined;
  }
  const { scope, reason } = scopeFromGlob(glob);
  if (!scope) b.unsupportedField(`${cip.where}: images[${i}] glob ${glob}`, reason ?? '');
  return scope;
}

type Authorities =
  | { kind: 'pass' }
  | { kind: 'fail' }
  | { kind: 'cosign'; fields: Record<string, unknown>; tuf: boolean; summary: string };

/** A policy's authorities (OR) as one cosign scope setting; undefined when they cannot be. */
function authorities(
  b: ImportBuilder,
  cip: Cip,
  options: PolicyControllerImportOptions,
): Authorities | undefined {
  void options;
  const list = (Array.isArray(cip.spec.authorities) ? cip.spec.authorities : []).map(
    (a) => asObject(a) ?? {},
  );
  if (list.length === 0) {
    b.unsupportedField(`${cip.where}: authorities`, 'none given');
    return undefined;
  }
  const at = (i: number) =>
    `${cip.where}: authorities[${i}]${typeof list[i]?.name === 'string' ? ` (${list[i]?.name})` : ''}`;
  const statics = list.filter((a) => a.static !== undefined);
  if (statics.length > 0) {
    if (list.length > 1) {
      b.unsupportedField(`${cip.where}: authorities`, 'static mixed with other authorities');
      return undefined;
    }
    const action = asObject(statics[0]?.static)?.action;
    if (action === 'pass' || action === 'fail') return { kind: action };
    b.unsupportedField(`${at(0)}: static.action ${String(action)}`, 'pass or fail');
    return undefined;
  }
  const keys: string[] = [];
  const identities: Array<Record<string, string>> = [];
  const predicateTypes = new Set<string>();
  let tlog = true;
  let ignoreSct = false;
  let needsRoot = false;
  let bad = false;
  const fail = (field: string, reason: string) => {
    b.unsupportedField(field, reason);
    bad = true;
  };
  list.forEach((a, i) => {
    for (const k of Object.keys(a))
      if (
        ![
          'name',
          'key',
          'keyless',
          'ctlog',
          'attestations',
          'signatureFormat',
          'source',
          'rfc3161timestamp',
        ].includes(k)
      )
        fail(`${at(i)}: ${k}`, 'not an authority field vouch knows');
    if (a.source !== undefined)
      fail(`${at(i)}: source`, 'signatures in another repository: vouch reads them beside the image');
    if (a.rfc3161timestamp !== undefined)
      fail(
        `${at(i)}: rfc3161timestamp`,
        'trustRootRef TSAs: give a trusted_root.json with the TSA (verifiers.cosign.trustedRoot)',
      );
    const ctlog = asObject(a.ctlog);
    if (ctlog?.trustRootRef !== undefined)
      fail(
        `${at(i)}: ctlog.trustRootRef`,
        'a TrustRoot resource: export it as trusted_root.json (verifiers.cosign.trustedRoot)',
      );
    if (typeof ctlog?.url === 'string' && ctlog.url.replace(/\/+$/, '') !== PUBLIC_REKOR)
      fail(
        `${at(i)}: ctlog.url ${ctlog.url}`,
        'a private Rekor: give its key in a trusted_root.json (verifiers.cosign.trustedRoot)',
      );
    // no ctlog: policy-controller has no Rekor client and skips the transparency log
    if (!ctlog) tlog = false;
    else needsRoot = true;
    const key = asObject(a.key);
    const keyless = asObject(a.keyless);
    if (key && keyless) fail(at(i), 'key and keyless in one authority');
    if (key) {
      if (typeof key.hashAlgorithm === 'string' && key.hashAlgorithm !== 'sha256')
        fail(
          `${at(i)}: key.hashAlgorithm ${key.hashAlgorithm}`,
          'vouch verifies cosign signatures over SHA-256',
        );
      if (typeof key.data === 'string' && key.data.trim() !== '')
        keys.push(b.material(`${cip.name}-${String(a.name ?? `key-${i}`)}`, '.pub', key.data));
      else if (key.kms !== undefined)
        fail(
          `${at(i)}: key.kms ${String(key.kms)}`,
          'KMS keys: export the public key (cosign public-key --key KMS) and give it as data',
        );
      else if (key.secretRef !== undefined)
        fail(
          `${at(i)}: key.secretRef ${String(asObject(key.secretRef)?.name)}`,
          "a Secret: put its cosign.pub in the key's data, or in a file named by verifiers.cosign.keys",
        );
      else fail(`${at(i)}: key`, 'needs data');
    }
    if (keyless) {
      for (const k of Object.keys(keyless))
        if (!['url', 'identities', 'ca-cert', 'trustRootRef', 'insecureIgnoreSCT'].includes(k))
          fail(`${at(i)}: keyless.${k}`, 'not a keyless field vouch knows');
      if (typeof keyless.url === 'string' && keyless.url.replace(/\/+$/, '') !== PUBLIC_FULCIO)
        fail(
          `${at(i)}: keyless.url ${keyless.url}`,
          'a private Fulcio: give its CA in a trusted_root.json (verifiers.cosign.trustedRoot)',
        );
      if (keyless['ca-cert'] !== undefined)
        fail(
          `${at(i)}: keyless.ca-cert`,
          'vouch reads Fulcio CAs from a trusted_root.json (verifiers.cosign.trustedRoot)',
        );
      if (keyless.trustRootRef !== undefined)
        fail(
          `${at(i)}: keyless.trustRootRef`,
          'a TrustRoot resource: export it as trusted_root.json (verifiers.cosign.trustedRoot)',
        );
      if (keyless.insecureIgnoreSCT === true) ignoreSct = true;
      needsRoot = true;
      const ids = Array.isArray(keyless.identities) ? keyless.identities : [];
      if (ids.length === 0)
        fail(`${at(i)}: keyless.identities`, 'required: vouch trusts no keyless signer without an identity');
      ids.forEach((raw, j) => {
        const id = asObject(raw) ?? {};
        const out: Record<string, string> = {};
        for (const [from, to] of [
          ['issuer', 'issuer'],
          ['issuerRegExp', 'issuerRegExp'],
          ['subject', 'subject'],
          ['subjectRegExp', 'subjectRegExp'],
        ] as const)
          if (typeof id[from] === 'string' && id[from] !== '') out[to] = id[from] as string;
        if (!(out.issuer || out.issuerRegExp) || !(out.subject || out.subjectRegExp))
          fail(
            `${at(i)}: keyless.identities[${j}]`,
            'needs an issuer (or issuerRegExp) and a subject (or subjectRegExp)',
          );
        identities.push(out);
      });
    }
    if (!key && !keyless) fail(at(i), 'needs key, keyless or static');
    const atts = Array.isArray(a.attestations) ? a.attestations : [];
    atts.forEach((raw, j) => {
      const att = asObject(raw) ?? {};
      const t = String(att.predicateType ?? '');
      const uri = PREDICATE_TYPES[t] ?? (/^https?:\/\//.test(t) ? t : undefined);
      if (!uri)
        fail(`${at(i)}: attestations[${j}] predicateType ${t}`, 'not a cosign predicate type name or URI');
      else predicateTypes.add(uri);
      if (att.policy !== undefined)
        fail(
          `${at(i)}: attestations[${j}] (${String(att.name)}) policy ${String(asObject(att.policy)?.type)}`,
          'CUE/Rego policy bodies: vouch has no policy language (attestation conditions: path equals/matches, SLSA provenance fields)',
        );
    });
  });
  if (keys.length > 0 && identities.length > 0)
    fail(
      `${cip.where}: authorities`,
      'key and keyless authorities in one policy: vouch scopes take keys or identities',
    );
  if (bad) return undefined;
  const fields: Record<string, unknown> = keys.length > 0 ? { keys } : { identities };
  if (!tlog) fields.ignoreTlog = true;
  if (ignoreSct) fields.ignoreSct = true;
  if (predicateTypes.size > 0) {
    fields.attestations = [...predicateTypes].map((predicateType) => ({ predicateType }));
    b.warn(
      `${cip.where}: attestations: vouch accepts only these predicate types, but a verified cosign signature also satisfies the rule (policy-controller then checks only the attestations)`,
    );
  }
  const summary = [
    keys.length > 0
      ? `${keys.length} key(s) (written beside this file)`
      : `${identities.length} keyless identit${identities.length === 1 ? 'y' : 'ies'}`,
    tlog ? 'transparency log required' : 'no ctlog: transparency log not required, as in policy-controller',
    ...(predicateTypes.size > 0 ? [`attestations ${[...predicateTypes].join(', ')}`] : []),
  ].join('; ');
  return { kind: 'cosign', fields, tuf: needsRoot, summary };
}
