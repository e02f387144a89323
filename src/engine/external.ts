/**
 * Content found outside the registry: a verifier that proves documents about the subject beside
 * its own signatures (the atproto verifier: an ATCR hold's `io.atcr.hold.scan` record and its
 * blobs) hands them to the content verifiers of the decision, which judge them as if attached.
 * The document's signature is nested under the content report, so `requireSignature` and
 * `signedBy` hold it to the same rule as an attached report: signed by a trusted signer, or not
 * counted.
 */
import { requireSignature } from './require-signature.js';
import type { ExternalFailure, Report, Subject, Verifier, VerifyContext } from './types.js';

function failureReport(verifier: string, failure: ExternalFailure, artifact: Report['artifact']): Report {
  return {
    verifier,
    artifact,
    outcome: failure.outcome,
    reason: failure.reason,
    message: failure.message,
    details: { ...failure.details, source: failure.source },
    nested: [],
  };
}

/** Reports of the decision's content verifiers on every external document the others found. */
export async function externalReports(
  subject: Subject,
  reports: readonly Report[],
  verifiers: readonly Verifier[],
  ctx: VerifyContext,
): Promise<Report[]> {
  const judges = verifiers.filter((v) => v.judgeDocument !== undefined);
  const sources = verifiers.filter((v) => v.externalDocuments !== undefined);
  if (judges.length === 0 || sources.length === 0) return [];
  const out: Report[] = [];
  for (const source of sources) {
    const mine = reports.filter((r) => r.verifier === source.name);
    let findings: Awaited<ReturnType<NonNullable<Verifier['externalDocuments']>>>;
    try {
      findings = (await source.externalDocuments?.(subject, mine, ctx)) ?? [];
    } catch (err) {
      // a bug below the verifier: reported as inconclusive for every judge, never an allow
      ctx.logger.warn({ verifier: source.name, err: String(err) }, 'external documents failed');
      findings = [
        {
          kind: 'failure',
          outcome: 'inconclusive',
          reason: 'error',
          message: `${source.name}: could not read external documents: ${String(err).slice(0, 200)}`,
          source: source.name,
          details: {},
        },
      ];
    }
    for (const finding of findings) {
      if (finding.kind === 'failure') {
        const artifact = { digest: finding.source, mediaType: 'application/vnd.ipld.dag-cbor' };
        for (const judge of judges) out.push(failureReport(judge.name, finding, artifact));
        continue;
      }
      for (const judge of judges) {
        const report = judge.judgeDocument?.(finding, ctx);
        if (report) out.push(requireSignature(judge, { ...report, nested: [finding.signature] }));
      }
    }
  }
  return out;
}
