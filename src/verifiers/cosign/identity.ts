/**
 * Certificate identities: what a Fulcio (or private PKI) leaf says about its signer, and the
 * matching of that against the policy's identity constraints.
 *
 * Fulcio certificate extensions: https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md
 * (1.3.6.1.4.1.57264.1.1 issuer, deprecated raw; .1.8 issuer, DER UTF8String; .1.2–.1.6 the
 * GitHub workflow trigger, sha, name, repository and ref that cosign's
 * `--certificate-github-workflow-*` flags match; .1.7 otherName SAN for usernames).
 * Matching is exact unless a field named `…RegExp` is used; regexps are anchored and compiled
 * when the policy loads (see config.ts), never here.
 */
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import type { X509Certificate } from '@sigstore/core';
import type { GithubField, IdentityMatcher } from '../../trust/cosign/types.js';

const OID_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const OID_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const OID_OTHERNAME_USERNAME = '1.3.6.1.4.1.57264.1.7';
const GITHUB_OIDS: Readonly<Record<GithubField, string>> = {
  githubWorkflowTrigger: '1.3.6.1.4.1.57264.1.2',
  githubWorkflowSha: '1.3.6.1.4.1.57264.1.3',
  githubWorkflowName: '1.3.6.1.4.1.57264.1.4',
  githubWorkflowRepository: '1.3.6.1.4.1.57264.1.5',
  githubWorkflowRef: '1.3.6.1.4.1.57264.1.6',
};

export const GITHUB_FIELDS = Object.keys(GITHUB_OIDS) as GithubField[];

/** What a leaf certificate says about its signer. */
export interface CertificateIdentity {
  /** OIDC issuer from the Fulcio extension (absent in private PKI certificates). */
  readonly issuer?: string;
  /** All SAN values: email, URI, DNS names and the Fulcio username otherName. */
  readonly subjects: readonly string[];
  readonly dnsNames: readonly string[];
  readonly github: Partial<Record<GithubField, string>>;
}

/** Reads the identity facts out of a leaf certificate. */
export function certificateIdentity(cert: X509Certificate): CertificateIdentity {
  const v2 = cert.extension(OID_ISSUER_V2);
  let issuer: string | undefined;
  if (v2) issuer = (v2.valueObj.subs[0] ?? v2.valueObj).value.toString('utf8');
  else issuer = cert.extension(OID_ISSUER_V1)?.value.toString('utf8');
  const subjects: string[] = [];
  const dnsNames: string[] = [];
  for (const entry of subjectAltNames(cert)) {
    if (entry.type === 'DNS') dnsNames.push(entry.value);
    else subjects.push(entry.value);
  }
  const username = safe(() => cert.extSubjectAltName?.otherName(OID_OTHERNAME_USERNAME));
  if (username) subjects.push(username);
  const github: Partial<Record<GithubField, string>> = {};
  for (const field of GITHUB_FIELDS) {
    const ext = cert.extension(GITHUB_OIDS[field]);
    if (ext) github[field] = ext.value.toString('utf8');
  }
  return { ...(issuer === undefined ? {} : { issuer }), subjects, dnsNames, github };
}

/** Returns undefined when the identity matches `matcher`, else a sentence saying what differed. */
export function identityMismatch(
  identity: CertificateIdentity,
  matcher: IdentityMatcher,
): string | undefined {
  if (matcher.issuer !== undefined && identity.issuer !== matcher.issuer) {
    return `issuer ${JSON.stringify(identity.issuer ?? null)} is not ${JSON.stringify(matcher.issuer)}`;
  }
  if (
    matcher.issuerRegExp &&
    (identity.issuer === undefined || !matcher.issuerRegExp.test(identity.issuer))
  ) {
    return `issuer ${JSON.stringify(identity.issuer ?? null)} does not match ${matcher.issuerRegExp.source}`;
  }
  if (matcher.subject !== undefined && !identity.subjects.includes(matcher.subject)) {
    return `subject ${JSON.stringify(identity.subjects)} does not include ${JSON.stringify(matcher.subject)}`;
  }
  const subjectRegExp = matcher.subjectRegExp;
  if (subjectRegExp && !identity.subjects.some((s) => subjectRegExp.test(s))) {
    return `subject ${JSON.stringify(identity.subjects)} does not match ${subjectRegExp.source}`;
  }
  if (matcher.hostname !== undefined && !identity.dnsNames.includes(matcher.hostname)) {
    return `DNS names ${JSON.stringify(identity.dnsNames)} do not include ${matcher.hostname}`;
  }
  for (const field of GITHUB_FIELDS) {
    const want = matcher.github?.[field];
    if (want !== undefined && identity.github[field] !== want) {
      return `${field} ${JSON.stringify(identity.github[field] ?? null)} is not ${JSON.stringify(want)}`;
    }
  }
  return undefined;
}

/** True when at least one matcher accepts the identity; returns the first mismatch otherwise. */
export function matchAnyIdentity(
  identity: CertificateIdentity,
  matchers: readonly IdentityMatcher[],
): { ok: true } | { ok: false; why: string } {
  let why = 'no identity is configured';
  for (const m of matchers) {
    const miss = identityMismatch(identity, m);
    if (miss === undefined) return { ok: true };
    why = miss;
  }
  return { ok: false, why };
}

interface SanEntry {
  type: string;
  value: string;
}

/** SAN entries via Node's parser (it quotes values containing separators). */
function subjectAltNames(cert: X509Certificate): SanEntry[] {
  const text = safe(() => new NodeX509Certificate(cert.root.toDER()).subjectAltName);
  if (!text) return [];
  const out: SanEntry[] = [];
  const re = /(DNS|email|URI|IP Address|othername):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (const m of text.matchAll(re)) {
    const type = m[1] ?? '';
    let value = m[2] ?? '';
    if (value.startsWith('"')) value = safe(() => JSON.parse(value) as string) ?? value;
    out.push({ type, value });
  }
  return out;
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
