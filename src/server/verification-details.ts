/**
 * Per-image verification details a pod carries (docs/remote-verification.md): what each
 * container's image must be signed by, on top of the cluster's policy.
 *
 *   vouch.dev/verify.<container>.identity   keyless certificate identity (exact), with …issuer
 *   vouch.dev/verify.<container>.issuer     OIDC issuer (exact)
 *   vouch.dev/verify.<container>.key        name of a key in server.verificationDetails.keys
 *   vouch.dev/verify                        JSON {"<container>": {"identity", "issuer", "key"}}
 *
 * Read from the pod's metadata (a workload's pod template). The details narrow trust, never widen
 * it: they are matched only against signatures the cluster's verifiers already verified under the
 * cluster's trust roots, and a key name the configuration does not know is an error, not a key.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Decision } from '../engine/types.js';
import { VouchError } from '../errors.js';
import { parsePublicKey } from '../verifiers/cosign/public-key.js';
import { POD_SPEC_PATHS } from './pod-images.js';
import type { VerificationDetails } from './public/envelope.js';
import { verifiedSignatures } from './public/facts.js';

export const VERIFY_ANNOTATION = 'vouch.dev/verify';

const detailsSchema = z
  .object({
    identity: z.string().min(1).max(2048).optional(),
    issuer: z.string().min(1).max(2048).optional(),
    key: z.string().min(1).max(63).optional(),
  })
  .strict()
  .refine((d) => d.key !== undefined || d.identity !== undefined, 'needs key, or identity and issuer')
  .refine((d) => (d.identity === undefined) === (d.issuer === undefined), 'identity and issuer go together');

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The pod's annotations (a workload's pod template's), strings only. */
export function podAnnotations(kind: string, object: unknown): Record<string, string> {
  const path = POD_SPEC_PATHS[kind];
  if (!path) return {};
  let meta: unknown = object;
  for (const step of [...path.slice(0, -1), 'metadata']) {
    if (!isRecord(meta)) return {};
    meta = meta[step];
  }
  const annotations = isRecord(meta) ? meta.annotations : undefined;
  if (!isRecord(annotations)) return {};
  return Object.fromEntries(
    Object.entries(annotations).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

/** The pod's (or workload's) name, for publishing when pod names are included. */
export function podName(kind: string, object: unknown): string | undefined {
  const meta = isRecord(object) ? object.metadata : undefined;
  if (!isRecord(meta)) return undefined;
  const name = typeof meta.name === 'string' ? meta.name : meta.generateName;
  return typeof name === 'string' && name ? `${kind}/${name}` : undefined;
}

export type DetailsLookup =
  | { readonly kind: 'none' }
  | { readonly kind: 'details'; readonly details: VerificationDetails }
  | { readonly kind: 'invalid'; readonly message: string };

/** The details for `container`: the per-container annotations win over the JSON annotation. */
export function detailsFor(annotations: Record<string, string>, container: string): DetailsLookup {
  let fromJson: unknown;
  const json = annotations[VERIFY_ANNOTATION];
  if (json !== undefined) {
    let doc: unknown;
    try {
      doc = json.length <= 64 * 1024 ? JSON.parse(json) : undefined;
    } catch {
      doc = undefined;
    }
    if (!isRecord(doc))
      return { kind: 'invalid', message: `annotation ${VERIFY_ANNOTATION} is not a JSON object` };
    fromJson = doc[container];
  }
  const own: Record<string, string> = {};
  for (const field of ['identity', 'issuer', 'key'] as const) {
    const v = annotations[`${VERIFY_ANNOTATION}.${container}.${field}`];
    if (v !== undefined) own[field] = v;
  }
  if (fromJson === undefined && Object.keys(own).length === 0) return { kind: 'none' };
  const merged = { ...(isRecord(fromJson) ? fromJson : {}), ...own };
  if (fromJson !== undefined && !isRecord(fromJson))
    return { kind: 'invalid', message: `${VERIFY_ANNOTATION}["${container}"] is not an object` };
  const parsed = detailsSchema.safeParse(merged);
  if (!parsed.success) {
    return {
      kind: 'invalid',
      message: `verification details of container ${container}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    };
  }
  const d = parsed.data;
  return {
    kind: 'details',
    details: {
      ...(d.identity ? { identity: d.identity } : {}),
      ...(d.issuer ? { issuer: d.issuer } : {}),
      ...(d.key ? { key: d.key } : {}),
    },
  };
}

/** Why an image failed its verification details; stable codes. */
export type DetailsFailure =
  | 'no-verification-details'
  | 'invalid-verification-details'
  | 'unknown-key'
  | 'verification-details-mismatch';

export type DetailsCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: DetailsFailure; readonly message: string };

/**
 * Whether `decision` (already allowed by the cluster policy) has a verified signature meeting
 * `details`: a signature by the named key (`keys`: name → key id), and one whose certificate
 * names the identity with the issuer.
 */
export function checkDetails(
  details: VerificationDetails,
  decision: Decision,
  keys: ReadonlyMap<string, string>,
): DetailsCheck {
  const signers = verifiedSignatures(decision).flatMap((s) => s.signers);
  if (details.key !== undefined) {
    const keyId = keys.get(details.key);
    if (keyId === undefined) {
      return {
        ok: false,
        reason: 'unknown-key',
        message: `key "${details.key}" is not one of server.verificationDetails.keys`,
      };
    }
    if (!signers.some((s) => s.keyId === keyId)) {
      return {
        ok: false,
        reason: 'verification-details-mismatch',
        message: `no verified signature by key "${details.key}" (${keyId.slice(0, 19)}…)`,
      };
    }
  }
  if (details.identity !== undefined) {
    const { identity, issuer } = details;
    if (!signers.some((s) => s.issuer === issuer && (s.identity ?? []).includes(identity))) {
      return {
        ok: false,
        reason: 'verification-details-mismatch',
        message: `no verified signature by ${identity} from issuer ${issuer ?? '?'}`,
      };
    }
  }
  return { ok: true };
}

/**
 * Loads `server.verificationDetails.keys` (name → PEM public key file) into name → key id, the id
 * the cosign verifier reports for a verified signature by that key.
 */
export async function loadDetailKeys(files: Readonly<Record<string, string>>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [name, file] of Object.entries(files)) {
    const where = `server.verificationDetails.keys.${name}`;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new VouchError('CONFIG_INVALID', `${where}: ${file} not found or unreadable`, { cause: err });
    }
    try {
      out.set(name, parsePublicKey(text, `${where}: ${file}`).id);
    } catch (err) {
      throw new VouchError('CONFIG_INVALID', `${where}: ${file} is not a PEM public key`, { cause: err });
    }
  }
  return out;
}

/**
 * Why an image the cluster policy allowed fails its pod's verification details
 * (`reason: message`), or undefined when it does not.
 */
export function detailsFailure(
  lookup: DetailsLookup,
  decision: Decision,
  context: {
    readonly enforce: boolean;
    readonly namespace: string;
    readonly container: string;
    readonly keys: ReadonlyMap<string, string>;
  },
): string | undefined {
  if (lookup.kind === 'invalid') return `invalid-verification-details: ${lookup.message}`;
  if (lookup.kind === 'none') {
    if (!context.enforce) return undefined;
    const c = context.container || '<container>';
    return `no-verification-details: namespace ${context.namespace} requires ${VERIFY_ANNOTATION}.${c}.identity and .issuer, or .key`;
  }
  const check = checkDetails(lookup.details, decision, context.keys);
  return check.ok ? undefined : `${check.reason}: ${check.message}`;
}
