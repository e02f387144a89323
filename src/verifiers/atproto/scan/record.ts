/**
 * ATCR's `io.atcr.hold.scan` record (lexicon as published by ATCR and generated into
 * jacquard-api's `io_atcr/hold/scan.rs`; docs/atproto.md names the version): vulnerability counts
 * for one manifest, in the hold's own repository, record key = the manifest digest's hex. Optional
 * blobs: `sbomBlob` (SPDX JSON) and `vulnReportBlob` (Grype JSON). Read from the verified proof's
 * DAG-CBOR, so blob refs are CIDs.
 */
import { CID } from 'multiformats/cid';
import { isValidDid, parseRecordUri } from '../../../trust/atproto/syntax.js';
import { malformed } from '../failure.js';

export const SCAN_COLLECTION = 'io.atcr.hold.scan';

/** A blob reference (`{$type: 'blob', ref: <CID>, mimeType, size}`). */
export interface BlobRef {
  readonly cid: CID;
  readonly mimeType: string;
  readonly size: number;
}

export interface ScanRecord {
  /** AT-URI of the scanned `io.atcr.manifest` record. */
  readonly manifest: string;
  readonly repository: string;
  readonly userDid: string;
  readonly scannedAt: string;
  readonly scannerVersion: string;
  readonly counts: {
    readonly critical: number;
    readonly high: number;
    readonly medium: number;
    readonly low: number;
    readonly total: number;
  };
  readonly sbomBlob?: BlobRef;
  readonly vulnReportBlob?: BlobRef;
}

/** The record key of the scan of `digest` (`sha256:<hex>` → `<hex>`). */
export function scanRecordKey(digest: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m?.[1]) throw malformed(`ATCR scan records are keyed by sha256 digests, not ${digest.slice(0, 80)}`);
  return m[1];
}

function count(record: Record<string, unknown>, field: string): number {
  const v = record[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw malformed(`the scan record's "${field}" is not a non-negative integer`);
  return v;
}

function text(record: Record<string, unknown>, field: string, max = 2048): string {
  const v = record[field];
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw malformed(`the scan record has no "${field}" string`);
  return v;
}

function blobRef(value: unknown, field: string): BlobRef | undefined {
  if (value === undefined || value === null) return undefined;
  const b = value as Record<string, unknown>;
  const cid = typeof b === 'object' ? CID.asCID(b.ref) : null;
  if (typeof b !== 'object' || b.$type !== 'blob' || !cid)
    throw malformed(`the scan record's "${field}" is not a blob reference`);
  if (typeof b.size !== 'number' || !Number.isSafeInteger(b.size) || b.size < 0)
    throw malformed(`the scan record's "${field}" has no size`);
  return {
    cid,
    mimeType: typeof b.mimeType === 'string' ? b.mimeType : 'application/octet-stream',
    size: b.size,
  };
}

/** Checks a proven record against the lexicon; throws `malformed` naming the field. */
export function parseScanRecord(record: Record<string, unknown>): ScanRecord {
  const manifest = text(record, 'manifest', 8192);
  if (!parseRecordUri(manifest))
    throw malformed(`the scan record's manifest "${manifest.slice(0, 100)}" is not an AT-URI`);
  const userDid = text(record, 'userDid');
  if (!isValidDid(userDid))
    throw malformed(`the scan record's userDid "${userDid.slice(0, 80)}" is not a DID`);
  const scannedAt = text(record, 'scannedAt', 64);
  if (Number.isNaN(Date.parse(scannedAt)))
    throw malformed(`the scan record's scannedAt "${scannedAt}" is not a date-time`);
  const sbomBlob = blobRef(record.sbomBlob, 'sbomBlob');
  const vulnReportBlob = blobRef(record.vulnReportBlob, 'vulnReportBlob');
  return {
    manifest,
    repository: text(record, 'repository', 255),
    userDid,
    scannedAt: new Date(scannedAt).toISOString(),
    scannerVersion: text(record, 'scannerVersion', 256),
    counts: {
      critical: count(record, 'critical'),
      high: count(record, 'high'),
      medium: count(record, 'medium'),
      low: count(record, 'low'),
      total: count(record, 'total'),
    },
    ...(sbomBlob ? { sbomBlob } : {}),
    ...(vulnReportBlob ? { vulnReportBlob } : {}),
  };
}
