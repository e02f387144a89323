/**
 * Fault contract of the content verifiers: the same registry fault gives the same outcome and
 * reason from every verifier, each run as the engine runs it (`verifyArtifact`, src/engine/run.ts:
 * the engine reads the verifier's needs and classifies faults with `classifyFetchError`). The faults come from the fault server (test/helpers/fault-server.ts, a
 * hand-written HTTP server) because the real registry cannot be made to answer 401 to one blob,
 * a wrong digest or an oversize body.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createMemoryCache } from '../../../src/cache/memory.js';
import { verifyArtifact } from '../../../src/engine/run.js';
import type { Artifact, Subject, Verifier } from '../../../src/engine/types.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { computeDigest } from '../../../src/reference/digest.js';
import { parseReference } from '../../../src/reference/parse.js';
import { RemoteRegistry } from '../../../src/registry/remote/index.js';
import { type Descriptor, MediaType } from '../../../src/registry/types.js';
import { sbomConfigSchema } from '../../../src/verifiers/sbom/config.js';
import { createSbomVerifier } from '../../../src/verifiers/sbom/index.js';
import { vulnerabilityReportConfigSchema } from '../../../src/verifiers/vulnerability-report/config.js';
import { createVulnerabilityReportVerifier } from '../../../src/verifiers/vulnerability-report/index.js';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { sarifReport, spdxSbom } from '../../helpers/reports.js';

type Fault =
  | 'none'
  | '401'
  | '403'
  | '404'
  | '429'
  | '500'
  | 'timeout'
  | 'digest-mismatch'
  | 'oversize'
  | 'invalid-manifest'
  | 'wrong-media-type';

/** What every content verifier must answer for each fault: [outcome, reason]. */
const CONTRACT: Record<Fault, [string, string]> = {
  none: ['verified', 'ok'],
  '401': ['inconclusive', 'unauthorized'],
  '403': ['inconclusive', 'forbidden'],
  '404': ['failed', 'not-found'],
  '429': ['inconclusive', 'rate-limited'],
  '500': ['inconclusive', 'unreachable'],
  timeout: ['inconclusive', 'timeout'],
  'digest-mismatch': ['failed', 'digest-mismatch'],
  oversize: ['failed', 'too-large'],
  'invalid-manifest': ['failed', 'malformed'],
  'wrong-media-type': ['failed', 'media-type-mismatch'],
};

const SUBJECT: Descriptor = {
  mediaType: MediaType.OciManifest,
  digest: computeDigest(new TextEncoder().encode('the image')),
  size: 9,
};

interface Served {
  manifest: Uint8Array;
  manifestDescriptor: Descriptor;
  blob: Uint8Array;
  blobDigest: string;
}

function artifactFor(type: string, bytes: Uint8Array, layerType = type): Served {
  const blobDigest = computeDigest(bytes);
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: type,
      config: {
        mediaType: MediaType.OciEmpty,
        digest: computeDigest(new TextEncoder().encode('{}')),
        size: 2,
      },
      layers: [{ mediaType: layerType, digest: blobDigest, size: bytes.length }],
      subject: SUBJECT,
      annotations: { 'org.opencontainers.image.created': new Date().toISOString() },
    }),
  );
  return {
    manifest,
    manifestDescriptor: {
      mediaType: MediaType.OciManifest,
      digest: computeDigest(manifest),
      size: manifest.length,
      artifactType: type,
    },
    blob: bytes,
    blobDigest,
  };
}

function status(res: ServerResponse, code: number, headers: Record<string, string> = {}): void {
  res
    .writeHead(code, { 'content-type': 'application/json', ...headers })
    .end('{"errors":[{"code":"DENIED","message":"fault"}]}');
}

describe('content verifiers: one answer per registry fault', { timeout: 120_000 }, () => {
  let fault: FaultServer;
  let registry: RemoteRegistry;
  let current: { fault: Fault; served: Served } | undefined;

  before(async () => {
    fault = await startFaultServer((req, res) => {
      const f = current;
      const url = req.url ?? '';
      if (url === '/v2/' || !f) return void res.writeHead(200).end('{}');
      const isManifest = url.includes('/manifests/');
      const isBlob = url.includes('/blobs/');
      const target =
        f.fault === 'invalid-manifest' || f.fault === 'none' || f.fault === 'wrong-media-type'
          ? 'none'
          : 'blob';
      if (isBlob && target === 'blob') {
        switch (f.fault) {
          case '401':
            return status(res, 401);
          case '403':
            return status(res, 403);
          case '404':
            return status(res, 404);
          case '429':
            return status(res, 429, { 'retry-after': '0' });
          case '500':
            return status(res, 500);
          case 'timeout':
            return; // never answers: the deadline ends it
          case 'digest-mismatch':
            return void res
              .writeHead(200, {
                'content-type': 'application/octet-stream',
                'content-length': String(f.served.blob.length),
              })
              .end(Buffer.from(f.served.blob).fill(0x20, 0, 1));
          case 'oversize': {
            const big = Buffer.alloc(f.served.blob.length + 1024, 0x20);
            return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(big);
          }
        }
      }
      if (isManifest) {
        const body =
          f.fault === 'invalid-manifest'
            ? new TextEncoder().encode('{"schemaVersion": 2, "layers": 7}')
            : f.served.manifest;
        return void res
          .writeHead(200, { 'content-type': MediaType.OciManifest, 'content-length': String(body.length) })
          .end(body);
      }
      if (isBlob)
        return void res
          .writeHead(200, {
            'content-type': 'application/octet-stream',
            'content-length': String(f.served.blob.length),
          })
          .end(f.served.blob);
      res.writeHead(404).end();
    });
    registry = new RemoteRegistry({ insecureHosts: [fault.host], maxRetries: 1 });
  });
  after(async () => {
    await registry.close();
    await fault.stop();
  });

  const verifiers: Array<{ verifier: Verifier; type: string; doc: Uint8Array }> = [
    {
      verifier: createVulnerabilityReportVerifier(
        vulnerabilityReportConfigSchema.parse({ disallowedSeverities: ['critical'] }),
        [],
      ),
      type: 'application/sarif+json',
      doc: sarifReport([{ cve: 'CVE-2024-5000', severity: 'low' }]),
    },
    {
      verifier: createSbomVerifier(sbomConfigSchema.parse({ disallowedLicenses: ['GPL-3.0-only'] }), []),
      type: 'application/spdx+json',
      doc: spdxSbom([{ name: 'a', version: '1', license: 'MIT' }]),
    },
  ];

  for (const [name, [outcome, reason]] of Object.entries(CONTRACT) as Array<[Fault, [string, string]]>) {
    it(`${name}: every content verifier answers ${outcome} / ${reason}`, async () => {
      for (const { verifier, type, doc } of verifiers) {
        let served = artifactFor(type, doc, name === 'wrong-media-type' ? 'text/plain' : type);
        if (name === 'invalid-manifest') {
          // digest and size match the bytes; the content is not a manifest (layers is a number)
          const manifest = new TextEncoder().encode('{"schemaVersion": 2, "layers": 7}');
          served = {
            ...served,
            manifest,
            manifestDescriptor: {
              ...served.manifestDescriptor,
              digest: computeDigest(manifest),
              size: manifest.length,
            },
          };
        }
        current = { fault: name, served };
        const repository = registry.repository(parseReference(`${fault.host}/app`));
        const subject: Subject = {
          name: `${fault.host}/app`,
          reference: parseReference(`${fault.host}/app`),
          descriptor: SUBJECT,
          repository,
        };
        const artifact: Artifact = {
          descriptor: served.manifestDescriptor,
          kind: 'referrer',
          source: 'referrers-api',
          referrers: [],
        };
        const signal = AbortSignal.timeout(name === 'timeout' ? 500 : 10_000);
        const report = await verifyArtifact(verifier, subject, artifact, {
          repository,
          signal,
          cache: createMemoryCache({ maxEntries: 10, maxBytes: 1 << 20, defaultTtlMs: 1000 }),
          now: new Date(),
          logger: silentLogger,
        });
        assert.deepEqual(
          [report.outcome, report.reason],
          [outcome, reason],
          `${verifier.name}: ${report.message}`,
        );
      }
    });
  }
});
