/**
 * Sigstore `trusted_root.json` (protobuf-specs `TrustedRoot`, media type
 * `application/vnd.dev.sigstore.trustedroot+json;version=0.1`), parsed and validated here rather
 * than trusted to @sigstore/verify, which treats a missing `validFor.start` as "since forever".
 *
 * Rules enforced (sigstore-conformance `trust-root-*` cases; protobuf-specs TransparencyLogInstance
 * and CertificateAuthority docs): every tlog / CT log / CA / TSA has `validFor.start`; `end`, when
 * present, is not before `start`; keys and certificates parse; CA chains are non-empty; one log ID
 * never names two different keys.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { X509Certificate } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial } from '@sigstore/verify';
import { z } from 'zod';
import { VouchError } from '../../errors.js';
import type { CertificateAuthority, CosignTrustMaterial, LogKey } from './types.js';

const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'not base64');
const validFor = z.object({
  start: z.iso.datetime({ offset: true }),
  end: z.iso.datetime({ offset: true }).nullish(),
});
const logSchema = z.object({
  baseUrl: z.string().min(1),
  hashAlgorithm: z.string().optional(),
  publicKey: z.object({ rawBytes: base64, keyDetails: z.string().min(1), validFor }),
  logId: z.object({ keyId: base64 }),
  checkpointKeyId: z.object({ keyId: base64 }).nullish(),
});
const caSchema = z.object({
  subject: z.unknown().optional(),
  uri: z.string().optional(),
  certChain: z.object({ certificates: z.array(z.object({ rawBytes: base64 })).min(1) }),
  validFor,
});
const trustedRootSchema = z.object({
  mediaType: z.string().startsWith('application/vnd.dev.sigstore.trustedroot'),
  tlogs: z.array(logSchema).default([]),
  certificateAuthorities: z.array(caSchema).default([]),
  ctlogs: z.array(logSchema).default([]),
  timestampAuthorities: z.array(caSchema).default([]),
});

type LogJson = z.infer<typeof logSchema>;
type CaJson = z.infer<typeof caSchema>;

/** Parses and validates a trusted root; `source` names the file in errors. */
export function parseTrustedRoot(text: string, source: string): CosignTrustMaterial {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new VouchError('TRUST_MATERIAL_INVALID', `${source}: not JSON`, { cause: err });
  }
  const parsed = trustedRootSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') : '';
    throw new VouchError(
      'TRUST_MATERIAL_INVALID',
      `${source}: ${where}: ${issue?.message ?? 'invalid trusted root'}`,
    );
  }
  const root = parsed.data;
  const rekorKeys = root.tlogs.map((l, i) => toLogKey(l, `${source}: tlogs[${i}]`));
  const ctLogs = root.ctlogs.map((l, i) => toLogKey(l, `${source}: ctlogs[${i}]`));
  assertDistinctLogIds(rekorKeys, `${source}: tlogs`);
  assertDistinctLogIds(ctLogs, `${source}: ctlogs`);
  const certificateAuthorities = root.certificateAuthorities.map((ca, i) =>
    toAuthority(ca, `${source}: certificateAuthorities[${i}]`),
  );
  for (const [i, ca] of root.timestampAuthorities.entries())
    toAuthority(ca, `${source}: timestampAuthorities[${i}]`);
  let sigstore: CosignTrustMaterial['sigstore'];
  try {
    sigstore = toTrustMaterial(TrustedRoot.fromJSON(json));
  } catch (err) {
    throw new VouchError('TRUST_MATERIAL_INVALID', `${source}: rejected by the sigstore trust loader`, {
      cause: err,
    });
  }
  return { certificateAuthorities, intermediates: [], rekorKeys, ctLogs, sigstore };
}

function toLogKey(log: LogJson, where: string): LogKey {
  const spki = Buffer.from(log.publicKey.rawBytes, 'base64');
  let publicKey: LogKey['publicKey'];
  try {
    const rsaPkcs1 = log.publicKey.keyDetails === 'PKCS1_RSA_PKCS1V5';
    publicKey = createPublicKey({ key: spki, format: 'der', type: rsaPkcs1 ? 'pkcs1' : 'spki' });
  } catch (err) {
    throw new VouchError('TRUST_MATERIAL_INVALID', `${where}.publicKey.rawBytes: not a public key`, {
      cause: err,
    });
  }
  return {
    logId: Buffer.from(log.logId.keyId, 'base64'),
    publicKey,
    spki,
    validFor: toValidity(log.publicKey.validFor, `${where}.publicKey.validFor`),
  };
}

function toAuthority(ca: CaJson, where: string): CertificateAuthority {
  const certChain = ca.certChain.certificates.map((c, i) => {
    try {
      return X509Certificate.parse(Buffer.from(c.rawBytes, 'base64'));
    } catch (err) {
      throw new VouchError(
        'TRUST_MATERIAL_INVALID',
        `${where}.certChain.certificates[${i}]: not a certificate`,
        {
          cause: err,
        },
      );
    }
  });
  return { certChain, validFor: toValidity(ca.validFor, `${where}.validFor`) };
}

function toValidity(
  v: { start: string; end?: string | null | undefined },
  where: string,
): { start: Date; end: Date } {
  const start = new Date(v.start);
  const end = v.end === undefined || v.end === null ? new Date(8.64e15) : new Date(v.end);
  if (end < start)
    throw new VouchError('TRUST_MATERIAL_INVALID', `${where}: end ${v.end} is before start ${v.start}`);
  return { start, end };
}

function assertDistinctLogIds(logs: readonly LogKey[], where: string): void {
  for (let i = 0; i < logs.length; i++) {
    for (let j = i + 1; j < logs.length; j++) {
      const a = logs[i];
      const b = logs[j];
      if (a && b && a.logId.equals(b.logId) && !a.spki.equals(b.spki)) {
        throw new VouchError(
          'TRUST_MATERIAL_INVALID',
          `${where}[${i}] and [${j}] share a log ID but not a key`,
        );
      }
    }
  }
}

/** A log key from a PEM file (containers/image style `rekor.pub`): log ID = sha256(SPKI DER). */
export function logKeyFromPem(pem: string, source: string): LogKey {
  let publicKey: LogKey['publicKey'];
  try {
    publicKey = createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new VouchError('TRUST_MATERIAL_INVALID', `${source}: not a PEM public key`, { cause: err });
  }
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return {
    logId: createHash('sha256').update(spki).digest(),
    publicKey,
    spki,
    validFor: { start: new Date(0), end: new Date(8.64e15) },
  };
}

/** Certificate authorities from PEM roots (each root its own authority, valid always). */
export function authoritiesFromRoots(roots: readonly X509Certificate[]): CertificateAuthority[] {
  return roots.map((root) => ({
    certChain: [root],
    validFor: { start: new Date(0), end: new Date(8.64e15) },
  }));
}
