/**
 * The details of an `atproto` report, as the verifier writes them (index.ts `detailsOf`) and as
 * readers of reports (the server's `/provide` entry) read them: one type for both sides, so no
 * reader guesses field names.
 */
import type { Report } from '../../engine/types.js';

/** What a successful verification proves (verify-claim.ts), as the report's details carry it. */
export interface ProvenAtprotoFacts {
  /** The signer's DID (the record's repository). */
  readonly did: string;
  /** The handle, when it resolved back to the DID. */
  readonly handle?: string;
  /** The handle the artifact or DID document claimed, when it did not verify. */
  readonly handleClaimed?: string;
  readonly handleVerified: boolean;
  /** The DID document's `#atproto` key (multibase) that signed the commit. */
  readonly signingKey: string;
  /** The PDS endpoint from the DID document. */
  readonly pds: string;
  /** A PDS named by the artifact that is not the DID document's, and so was not used. */
  readonly pdsHintIgnored?: string;
  readonly recordUri: string;
  readonly recordCid: string;
  /** The signed repository commit that holds the record. */
  readonly commitCid: string;
  readonly commitRev: string;
  /** The commit the artifact named, when it differs from the one proven. */
  readonly artifactCommitCid?: string;
  /** ISO 8601 signing time the artifact claims. */
  readonly signedAt?: string;
  /** The hold the proven manifest record names (`holdDid`), where its blobs and scans live. */
  readonly holdDid?: string;
}

/** What a verified atproto report's `details` hold. */
export interface AtprotoDetails extends ProvenAtprotoFacts {
  /** The trust policy's name for the DID, when it has one. */
  readonly signerName?: string;
  /** The ATCR trust policy entry that applied, and its action. */
  readonly policy?: string;
  readonly action?: 'enforce' | 'audit';
}

/** The details of `report` when it is a verified atproto report; undefined otherwise. */
export function verifiedAtprotoDetails(report: Report): AtprotoDetails | undefined {
  if (report.verifier !== 'atproto' || report.outcome !== 'verified') return undefined;
  const d = report.details as Partial<AtprotoDetails>;
  return typeof d.did === 'string' ? (d as AtprotoDetails) : undefined;
}
