/**
 * A ClusterImagePolicy's authorities (any one suffices) as the cosign settings of its scopes:
 * `key.data`, `keyless` identities with the public Fulcio, `ctlog` (present: Rekor entries
 * required; absent: policy-controller has no Rekor client and skips the log), `attestations`
 * predicate types, and `static` pass/fail. Everything else is named as unsupported.
 */
import { X509Certificate } from 'node:crypto';
import { asObject, type ImportBuilder } from './result.js';

/** One ClusterImagePolicy document: where it was read, its name and its `spec`. */
export interface Cip {
  readonly where: string;
  readonly name: string;
  readonly spec: Record<string, unknown>;
}

const PUBLIC_FULCIO = 'https://fulcio.sigstore.dev';
const PUBLIC_REKOR = 'https://rekor.sigstore.dev';

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

export type Authorities =
  | { kind: 'pass' }
  | { kind: 'fail' }
  | {
      kind: 'cosign';
      fields: Record<string, unknown>;
      tuf: boolean;
      /** A trusted_root.json written from `keyless.ca-cert.data` (a private Fulcio). */
      trustedRoot?: string;
      summary: string;
    };

/**
 * A sigstore trusted root (protobuf-specs TrustedRoot) holding one certificate authority: the
 * PEM chain of `ca-cert.data`, valid from its earliest certificate's notBefore. No Rekor and no CT
 * log keys: policy-controller with a custom CA and no ctlog checks neither.
 */
export function trustedRootFromPem(pem: string): string {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const certs = blocks.map((b) => new X509Certificate(b));
  if (certs.length === 0) throw new Error('no PEM certificate');
  const start = new Date(Math.min(...certs.map((c) => new Date(c.validFrom).getTime())));
  return `${JSON.stringify(
    {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [],
      certificateAuthorities: [
        {
          subject: {
            organization: '',
            commonName:
              certs[0]?.subject
                .split('\n')
                .find((l) => l.startsWith('CN='))
                ?.slice(3) ?? '',
          },
          uri: '',
          certChain: { certificates: certs.map((c) => ({ rawBytes: c.raw.toString('base64') })) },
          validFor: { start: start.toISOString() },
        },
      ],
      ctlogs: [],
      timestampAuthorities: [],
    },
    null,
    2,
  )}\n`;
}

/** A policy's authorities (OR) as one cosign scope setting; undefined when they cannot be. */
export function authorities(b: ImportBuilder, cip: Cip): Authorities | undefined {
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
  const acc = collector(b);
  const { fail } = acc;
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
    if (!ctlog) acc.tlog = false;
    else acc.needsRoot = true;
    const key = asObject(a.key);
    const keyless = asObject(a.keyless);
    if (key && keyless) fail(at(i), 'key and keyless in one authority');
    if (key) readKey(acc, key, `${cip.name}-${String(a.name ?? `key-${i}`)}`, at(i));
    if (keyless) readKeyless(acc, keyless, ctlog !== undefined, at(i));
    if (!key && !keyless) fail(at(i), 'needs key, keyless or static');
    readAttestations(acc, a.attestations, at(i));
  });
  const { keys, identities, predicateTypes, tlog, ignoreSct, needsRoot, trustedRoot } = acc;
  if (keys.length > 0 && identities.length > 0)
    fail(
      `${cip.where}: authorities`,
      'key and keyless authorities in one policy: vouch scopes take keys or identities',
    );
  if (acc.bad) return undefined;
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
  if (trustedRoot && needsRoot) {
    b.unsupportedField(
      `${cip.where}: authorities`,
      'a private CA beside the public sigstore root: vouch has one trusted root',
    );
    return undefined;
  }
  return {
    kind: 'cosign',
    fields,
    tuf: needsRoot,
    ...(trustedRoot ? { trustedRoot: b.material(`${cip.name}-trusted_root`, '.json', trustedRoot) } : {}),
    summary: trustedRoot
      ? `${summary}; the private CA of ca-cert (trusted root written beside this file)`
      : summary,
  };
}

interface Collected {
  readonly b: ImportBuilder;
  readonly keys: string[];
  readonly identities: Array<Record<string, string>>;
  readonly predicateTypes: Set<string>;
  /** False once one authority needs no transparency log (any one authority suffices). */
  tlog: boolean;
  ignoreSct: boolean;
  /** The public sigstore trusted root is needed (keyless with the public Fulcio, or a ctlog). */
  needsRoot: boolean;
  /** A trusted_root.json made from `keyless.ca-cert.data`. */
  trustedRoot: string | undefined;
  bad: boolean;
  fail(field: string, reason: string): void;
}

function collector(b: ImportBuilder): Collected {
  const acc: Collected = {
    b,
    keys: [],
    identities: [],
    predicateTypes: new Set(),
    tlog: true,
    ignoreSct: false,
    needsRoot: false,
    trustedRoot: undefined,
    bad: false,
    fail(field, reason) {
      b.unsupportedField(field, reason);
      acc.bad = true;
    },
  };
  return acc;
}

/** `key`: inline `data` only (KMS and Secrets are named). */
function readKey(acc: Collected, key: Record<string, unknown>, name: string, where: string): void {
  if (typeof key.hashAlgorithm === 'string' && key.hashAlgorithm !== 'sha256')
    acc.fail(
      `${where}: key.hashAlgorithm ${key.hashAlgorithm}`,
      'vouch verifies cosign signatures over SHA-256',
    );
  if (typeof key.data === 'string' && key.data.trim() !== '')
    acc.keys.push(acc.b.material(name, '.pub', key.data));
  else if (key.kms !== undefined)
    acc.fail(
      `${where}: key.kms ${String(key.kms)}`,
      'KMS keys: export the public key (cosign public-key --key KMS) and give it as data',
    );
  else if (key.secretRef !== undefined)
    acc.fail(
      `${where}: key.secretRef ${String(asObject(key.secretRef)?.name)}`,
      "a Secret: put its cosign.pub in the key's data, or in a file named by verifiers.cosign.keys",
    );
  else acc.fail(`${where}: key`, 'needs data');
}

/** `keyless`: identities, the public Fulcio or a private CA chain (`ca-cert.data`). */
function readKeyless(
  acc: Collected,
  keyless: Record<string, unknown>,
  hasCtlog: boolean,
  where: string,
): void {
  for (const k of Object.keys(keyless))
    if (!['url', 'identities', 'ca-cert', 'trustRootRef', 'insecureIgnoreSCT'].includes(k))
      acc.fail(`${where}: keyless.${k}`, 'not a keyless field vouch knows');
  const caCert = asObject(keyless['ca-cert']);
  if (keyless['ca-cert'] !== undefined) {
    if (typeof caCert?.data !== 'string' || caCert.data.trim() === '')
      acc.fail(
        `${where}: keyless.ca-cert${caCert?.secretRef !== undefined ? '.secretRef' : ''}`,
        'give the CA chain as data (PEM); vouch reads no Secrets',
      );
    else if (keyless.insecureIgnoreSCT !== true)
      acc.fail(
        `${where}: keyless.ca-cert`,
        'a private CA without CT log keys: policy-controller checks its SCTs against the public CT log; set insecureIgnoreSCT or give a trusted_root.json with the CT log',
      );
    else if (hasCtlog)
      acc.fail(`${where}: ctlog`, 'a private CA with a transparency log: give both in a trusted_root.json');
    else {
      try {
        const root = trustedRootFromPem(caCert.data);
        if (acc.trustedRoot && acc.trustedRoot !== root)
          acc.fail(`${where}: keyless.ca-cert`, 'a second private CA: vouch has one trusted root');
        acc.trustedRoot ??= root;
      } catch (err) {
        acc.fail(`${where}: keyless.ca-cert.data`, `not a PEM certificate chain (${(err as Error).message})`);
      }
    }
  } else if (typeof keyless.url === 'string' && keyless.url.replace(/\/+$/, '') !== PUBLIC_FULCIO)
    acc.fail(
      `${where}: keyless.url ${keyless.url}`,
      'a private Fulcio: give its CA chain as ca-cert.data, or a trusted_root.json (verifiers.cosign.acc.trustedRoot)',
    );
  if (keyless.trustRootRef !== undefined)
    acc.fail(
      `${where}: keyless.trustRootRef`,
      'a TrustRoot resource: export it as trusted_root.json (verifiers.cosign.acc.trustedRoot)',
    );
  if (keyless.insecureIgnoreSCT === true) acc.ignoreSct = true;
  if (keyless['ca-cert'] === undefined) acc.needsRoot = true;
  const ids = Array.isArray(keyless.identities) ? keyless.identities : [];
  if (ids.length === 0)
    acc.fail(`${where}: keyless.identities`, 'required: vouch trusts no keyless signer without an identity');
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
      acc.fail(
        `${where}: keyless.identities[${j}]`,
        'needs an issuer (or issuerRegExp) and a subject (or subjectRegExp)',
      );
    acc.identities.push(out);
  });
}

/** `attestations[]`: predicate types (cosign's names or URIs); policy bodies are named. */
function readAttestations(acc: Collected, attestations: unknown, where: string): void {
  const atts = Array.isArray(attestations) ? attestations : [];
  atts.forEach((raw, j) => {
    const att = asObject(raw) ?? {};
    const t = String(att.predicateType ?? '');
    const uri = PREDICATE_TYPES[t] ?? (/^https?:\/\//.test(t) ? t : undefined);
    if (!uri)
      acc.fail(`${where}: attestations[${j}] predicateType ${t}`, 'not a cosign predicate type name or URI');
    else acc.predicateTypes.add(uri);
    if (att.policy !== undefined)
      acc.fail(
        `${where}: attestations[${j}] (${String(att.name)}) policy ${String(asObject(att.policy)?.type)}`,
        'CUE/Rego policy bodies: vouch has no policy language (attestation conditions: path equals/matches, SLSA provenance fields)',
      );
  });
}
