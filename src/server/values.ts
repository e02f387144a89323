/**
 * What the server says about one decided image, in the shapes its clients read:
 *
 * - `gatekeeperValue`: the `value` of a Gatekeeper validate item (docs/server.md "Validate value").
 *   It keeps Ratify v1's config-policy fields (`version` 0.2.0, `isSuccess`, `traceID`, `timestamp`,
 *   `verifierReports[]` with `subject`, `isSuccess`, `name`, `type`, `referenceDigest`,
 *   `artifactType`, `message`, `errorReason`, `extensions`, `nestedResults`; protocols README §2.3)
 *   so Ratify's templates work unchanged, and adds vouch's own: `allowed`, `verified`, `mode`,
 *   `wouldDeny`, `digest`, `rule`, `why`.
 * - `provideEntry`: one `/provide` response (atcr-gatekeeper-provider.md "API Specification"):
 *   `image`, `verified`, `did`, `handle`, `signedAt`, `commitCid`, `error`, plus `allowed`, `digest`,
 *   `signers` (one per verified report, from any verifier).
 */
import type { Decision, Report } from '../engine/types.js';

export interface RatifyVerifierReport {
  subject: string;
  isSuccess: boolean;
  name: string;
  verifierName: string;
  type: string;
  verifierType: string;
  referenceDigest: string;
  artifactType?: string;
  outcome: Report['outcome'];
  reason: string;
  message: string;
  errorReason?: string;
  extensions: Readonly<Record<string, unknown>>;
  nestedResults: RatifyVerifierReport[];
}

export interface GatekeeperValue {
  version: '0.2.0';
  isSuccess: boolean;
  allowed: boolean;
  verified: boolean;
  mode: Decision['mode'];
  wouldDeny: boolean;
  traceID: string;
  timestamp: string;
  subject: string;
  digest: string;
  rule: string;
  why: readonly string[];
  verifierReports: RatifyVerifierReport[];
}

function verifierReport(subject: string, r: Report): RatifyVerifierReport {
  const ok = r.outcome === 'verified';
  return {
    subject,
    isSuccess: ok,
    name: r.verifier,
    verifierName: r.verifier,
    type: r.verifier,
    verifierType: r.verifier,
    referenceDigest: r.artifact.digest,
    ...(r.artifact.artifactType ? { artifactType: r.artifact.artifactType } : {}),
    outcome: r.outcome,
    reason: r.reason,
    message: r.message,
    ...(ok ? {} : { errorReason: r.reason }),
    extensions: r.details,
    nestedResults: r.nested.map((n) => verifierReport(`${subject.split('@')[0]}@${r.artifact.digest}`, n)),
  };
}

/** The validate value for one key. `isSuccess` is the verdict Gatekeeper templates test. */
export function gatekeeperValue(decision: Decision, traceID: string): GatekeeperValue {
  const subject = `${decision.subject.name}@${decision.subject.digest}`;
  return {
    version: '0.2.0',
    isSuccess: decision.allowed,
    allowed: decision.allowed,
    verified: decision.verified,
    mode: decision.mode,
    wouldDeny: decision.wouldDeny,
    traceID,
    timestamp: decision.decidedAt,
    subject,
    digest: decision.subject.digest,
    rule: decision.rule,
    why: decision.why,
    verifierReports: decision.reports.map((r) => verifierReport(subject, r)),
  };
}

/** Stands in for the trace id while a value is serialised once; split out again below. */
const TRACE_MARK = '\u0000vouch-trace-id\u0000';
const TRACE_MARK_JSON = JSON.stringify(TRACE_MARK);
const serialised = new WeakMap<Decision, readonly [Buffer, Buffer]>();

/** UTF-8 bytes in memory of their own: a pooled Buffer would pin a shared 8 KiB slab while cached. */
function ownBytes(text: string): Buffer {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  bytes.write(text);
  return bytes;
}

/**
 * `JSON.stringify(gatekeeperValue(decision, traceID))` as UTF-8, in two parts that go either side
 * of `JSON.stringify(traceID)`. The warm path serves one cached decision to many requests: its value
 * is serialised and encoded once (kept as long as the decision object lives, i.e. while it is
 * cached) and only the trace id differs per request. The fields before `traceID` are booleans and
 * fixed words, so the mark found first is the one put there. Both parts are views of one buffer.
 */
export function gatekeeperValueParts(decision: Decision): readonly [Buffer, Buffer] {
  let parts = serialised.get(decision);
  if (!parts) {
    const json = JSON.stringify(gatekeeperValue(decision, TRACE_MARK));
    const at = json.indexOf(TRACE_MARK_JSON);
    const bytes = ownBytes(json.slice(0, at) + json.slice(at + TRACE_MARK_JSON.length));
    const split = Buffer.byteLength(json.slice(0, at));
    parts = [bytes.subarray(0, split), bytes.subarray(split)];
    serialised.set(decision, parts);
  }
  return parts;
}

export interface ProvideEntry {
  image: string;
  verified: boolean;
  allowed?: boolean;
  digest?: string;
  did?: string;
  handle?: string;
  signedAt?: string;
  commitCid?: string;
  signers?: Array<{ verifier: string; artifact: string } & Record<string, unknown>>;
  why?: readonly string[];
  error?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

function verifiedReports(reports: readonly Report[]): Report[] {
  return reports.flatMap((r) =>
    r.outcome === 'verified' ? [r, ...verifiedReports(r.nested)] : verifiedReports(r.nested),
  );
}

/** One `/provide` response entry for a decided image. */
export function provideEntry(image: string, decision: Decision): ProvideEntry {
  const verified = verifiedReports(decision.reports);
  const atproto = verified.find((r) => r.verifier === 'atproto')?.details ?? {};
  const entry: ProvideEntry = {
    image,
    verified: decision.verified,
    allowed: decision.allowed,
    digest: decision.subject.digest,
    signers: verified.map((r) => ({ ...r.details, verifier: r.verifier, artifact: r.artifact.digest })),
    why: decision.why,
  };
  const did = str(atproto.did);
  const handle = str(atproto.handle);
  const signedAt = str(atproto.signedAt) ?? str(atproto.signingTime);
  const commitCid = str(atproto.commitCid) ?? str(atproto.commit);
  if (did) entry.did = did;
  if (handle) entry.handle = handle;
  if (signedAt) entry.signedAt = signedAt;
  if (commitCid) entry.commitCid = commitCid;
  if (!decision.verified) entry.error = decision.why[0] ?? 'not verified';
  return entry;
}
