/**
 * What the server says about one decided image, in the shapes its clients read:
 *
 * - `gatekeeperValue`: the `value` of a Gatekeeper validate item (docs/server.md "Validate value"),
 *   the same on vouch's and Ratify's paths. It carries Ratify v1's value (config-policy executor,
 *   v1.4.0 pkg/executor/types/types.go `VerifyResult`: `isSuccess`, `verifierReports[]` of
 *   pkg/verifier/result.go `VerifierResult`; `version` 0.2.0, `traceID`, `timestamp`; protocols
 *   README §2.3) and Ratify v2's verdict (`succeeded`, internal/httpserver/response.go), so Ratify's
 *   ConstraintTemplates work unchanged (docs/gatekeeper.md "Ratify's templates behind vouch"), and
 *   adds vouch's own: `allowed`, `verified`, `mode`, `wouldDeny`, `digest`, `rule`, `why`, and per
 *   report `outcome` and `reason`.
 * - `provideEntry`: one `/provide` response (atcr-gatekeeper-provider.md "API Specification"):
 *   `image`, `verified`, `did`, `handle`, `signedAt`, `commitCid`, `error`, plus `allowed`, `digest`,
 *   `signers` (one per verified report, from any verifier).
 */
import type { Decision, Report } from '../engine/types.js';
import { ratifyExtensions, ratifyType } from '../ratify/report-fields.js';
import { verifiedAtprotoDetails } from '../verifiers/atproto/details.js';

/**
 * One report as Ratify v1's `VerifierResult` (pkg/verifier/result.go), plus vouch's `outcome` and
 * `reason`. The fields Ratify's templates read: `isSuccess` (this artifact verified), `type` (Ratify's
 * type name: `notation`, `cosign`, `sbom`, `vulnerabilityreport`, …), `artifactType`, `subject`
 * (the image for a report on the image's own artifact, `name@<artifact digest>` for a nested one),
 * `message`, `extensions` (vouch's details plus Ratify's names: notation `Issuer`/`SN`,
 * vulnerability report `createdAt`/`scanner`, …) and `nestedResults` (the reports on artifacts
 * attached to this one, e.g. the signatures of an SBOM; absent when there are none, as Ratify's
 * `omitempty` leaves it: Ratify's notation-nested template requires a verified signature in every
 * `nestedResults` list present).
 */
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
  nestedResults?: RatifyVerifierReport[];
}

export interface GatekeeperValue {
  version: '0.2.0';
  /** Ratify v1's verdict (templates test `isSuccess == false`): vouch's `allowed`. */
  isSuccess: boolean;
  /**
   * Ratify v2's verdict (its default template tests `succeeded == false`): "the outcome determined
   * by the policy enforcer" (ratify-go executor.go `ValidationResult.Succeeded`), i.e. `allowed`.
   */
  succeeded: boolean;
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

/**
 * `r` on `subject` (`name@digest`) as Ratify's VerifierResult. Its nested reports are on the
 * artifact `r` judged, so their subject is `name@<r's artifact digest>` (Ratify v1.4.0
 * executor.go `addNestedVerifierResult`).
 */
function verifierReport(name: string, subject: string, r: Report): RatifyVerifierReport {
  const ok = r.outcome === 'verified';
  const type = ratifyType(r.verifier);
  const nestedSubject = `${name}@${r.artifact.digest}`;
  return {
    subject,
    isSuccess: ok,
    name: r.verifier,
    verifierName: r.verifier,
    type,
    verifierType: type,
    referenceDigest: r.artifact.digest,
    ...(r.artifact.artifactType ? { artifactType: r.artifact.artifactType } : {}),
    outcome: r.outcome,
    reason: r.reason,
    message: r.message,
    ...(ok ? {} : { errorReason: r.reason }),
    extensions: { ...r.details, ...ratifyExtensions(r.verifier, r) },
    ...(r.nested.length > 0
      ? { nestedResults: r.nested.map((n) => verifierReport(name, nestedSubject, n)) }
      : {}),
  };
}

/** The validate value for one key. `isSuccess` and `succeeded` are the verdicts Ratify's templates test. */
export function gatekeeperValue(decision: Decision, traceID: string): GatekeeperValue {
  const subject = `${decision.subject.name}@${decision.subject.digest}`;
  return {
    version: '0.2.0',
    isSuccess: decision.allowed,
    succeeded: decision.allowed,
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
    verifierReports: decision.reports.map((r) => verifierReport(decision.subject.name, subject, r)),
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

function verifiedReports(reports: readonly Report[]): Report[] {
  return reports.flatMap((r) =>
    r.outcome === 'verified' ? [r, ...verifiedReports(r.nested)] : verifiedReports(r.nested),
  );
}

/** One `/provide` response entry for a decided image. */
export function provideEntry(image: string, decision: Decision): ProvideEntry {
  const verified = verifiedReports(decision.reports);
  const atproto = verified.map(verifiedAtprotoDetails).find((d) => d !== undefined);
  const entry: ProvideEntry = {
    image,
    verified: decision.verified,
    allowed: decision.allowed,
    digest: decision.subject.digest,
    signers: verified.map((r) => ({ ...r.details, verifier: r.verifier, artifact: r.artifact.digest })),
    why: decision.why,
  };
  // the ATCR provider's fields come from the atproto verifier's typed details (details.ts)
  if (atproto) {
    entry.did = atproto.did;
    if (atproto.handle) entry.handle = atproto.handle;
    if (atproto.signedAt) entry.signedAt = atproto.signedAt;
    entry.commitCid = atproto.commitCid;
  }
  if (!decision.verified) entry.error = decision.why[0] ?? 'not verified';
  return entry;
}
