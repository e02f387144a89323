/**
 * Fault contract of every verifier: the same registry fault on the request a verifier makes for
 * its artifact (the artifact's manifest, or the one layer it reads) gives the same outcome and
 * reason from notation, cosign (tag signature, bundle referrer, attestation), atproto, sbom and
 * vulnerabilityReport, and that answer is the row of docs/architecture.md "Registry faults: one
 * table" (src/engine/classify.ts). Each verifier runs as the engine runs it (`verifyArtifact`,
 * src/engine/run.ts): it declares what it reads, the engine fetches and answers the fault.
 *
 * Every artifact is made by vouch's own signers (or attached like an SBOM is) on a real registry
 * (test/helpers/registry.ts); atproto signs into a real PDS and resolves on a real PLC directory
 * (test/helpers/atproto-net.ts). The verifiers read through the fault server
 * (test/helpers/fault-server.ts), which forwards every request to the registry except the one it
 * is told to break. Requests name their case in the repository path (`/v2/<case>/<repo>/…`), so
 * all cases run at once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMemoryCache } from '../../src/cache/memory.js';
import { classifyFetchError, MEDIA_TYPE_MISMATCH } from '../../src/engine/classify.js';
import { Engine } from '../../src/engine/engine.js';
import { verifyArtifact } from '../../src/engine/run.js';
import type { Artifact, Outcome, Report, Subject, Verifier } from '../../src/engine/types.js';
import { VouchError, type VouchErrorCode } from '../../src/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createServerMetrics } from '../../src/observability/metrics.js';
import { compilePolicy } from '../../src/policy/policy.js';
import { policySchema } from '../../src/policy/types.js';
import { computeDigest } from '../../src/reference/digest.js';
import { parseReference } from '../../src/reference/parse.js';
import { attachArtifact } from '../../src/referrers/attach.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client.js';
import { type Descriptor, MediaType } from '../../src/registry/types.js';
import { createDecisionService } from '../../src/server/decisions.js';
import { signAtproto } from '../../src/sign/atproto/index.js';
import { attestCosign } from '../../src/sign/cosign/attest.js';
import { decryptCosignKey, generateCosignKeyPair, signCosign } from '../../src/sign/cosign/index.js';
import { signNotation } from '../../src/sign/notation/index.js';
import { loadAtprotoTrust } from '../../src/trust/atproto/load.js';
import { loadCosignTrust } from '../../src/trust/cosign/load.js';
import { createAtprotoVerifier } from '../../src/verifiers/atproto/index.js';
import { createCosignVerifier } from '../../src/verifiers/cosign/index.js';
import { createNotationVerifier } from '../../src/verifiers/notation/index.js';
import { sbomConfigSchema } from '../../src/verifiers/sbom/config.js';
import { createSbomVerifier } from '../../src/verifiers/sbom/index.js';
import { vulnerabilityReportConfigSchema } from '../../src/verifiers/vulnerability-report/config.js';
import { createVulnerabilityReportVerifier } from '../../src/verifiers/vulnerability-report/index.js';
import { type AtprotoNet, startAtprotoNet } from '../helpers/atproto-net.js';
import { type FaultServer, forwardTo, sendJson, startFaultServer } from '../helpers/fault-server.js';
import { pushTestImage } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { sarifReport, spdxSbom } from '../helpers/reports.js';
import { trustPolicy } from './atproto/support/e2e-env.js';
import { cert, trustFor } from './notation/fixtures.js';

type Fault =
  | 'none'
  | '401'
  | '403'
  | '404'
  | '429'
  | '500'
  | '503'
  | 'timeout'
  | 'digest-mismatch'
  | 'oversize'
  | 'invalid-json'
  | 'schema1-content-type'
  | 'wrong-layer-type';

interface Row {
  readonly fault: Fault;
  /** Which request the fault breaks; none for faults in the artifact itself. */
  readonly target?: 'manifest' | 'blob';
  readonly expect: readonly [Outcome, string];
}

/** docs/architecture.md "Registry faults: one table", as every verifier must answer it. */
const HTTP_FAULTS: ReadonlyArray<[Fault, readonly [Outcome, string]]> = [
  ['401', ['inconclusive', 'unauthorized']],
  ['403', ['inconclusive', 'forbidden']],
  ['404', ['failed', 'not-found']],
  ['429', ['inconclusive', 'rate-limited']],
  ['500', ['inconclusive', 'unreachable']],
  ['503', ['inconclusive', 'unreachable']],
  ['timeout', ['inconclusive', 'timeout']],
  ['digest-mismatch', ['failed', 'digest-mismatch']],
  ['oversize', ['failed', 'too-large']],
];
const ROWS: readonly Row[] = [
  { fault: 'none', expect: ['verified', 'ok'] },
  ...HTTP_FAULTS.flatMap(([fault, expect]) =>
    (['manifest', 'blob'] as const).map((target) => ({ fault, target, expect })),
  ),
  // the manifest's bytes match its digest but are not JSON
  { fault: 'invalid-json', expect: ['failed', 'malformed'] },
  // the registry labels the manifest Docker schema 1 (Content-Type), which vouch refuses unread
  { fault: 'schema1-content-type', target: 'manifest', expect: ['failed', 'unsupported'] },
  // the manifest is fine, the layer the verifier reads has a media type it does not read
  { fault: 'wrong-layer-type', expect: ['failed', 'media-type-mismatch'] },
];

/** Faults the server-level cases inject, and whether the denial they cause is cached. */
const SERVER_CASES: ReadonlyArray<[Fault, boolean]> = [
  ['401', false],
  ['429', false],
  ['404', true],
];
const SERVER_FAULTS = SERVER_CASES.map(([f]) => f);

/** How long a timeout case waits for an answer that never comes. */
const TIMEOUT_MS = 1500;
const SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

/** One verifier and one valid artifact of its format on the registry. */
interface Fixture {
  readonly label: string;
  readonly verifier: Verifier;
  /** Repository path on the registry (the proxy serves it as `<case>/<path>`). */
  readonly repoPath: string;
  readonly subject: Descriptor;
  readonly artifact: Artifact;
  readonly manifestBytes: Uint8Array;
  /** The layer the verifier reads, and its bytes. */
  readonly layer: Descriptor;
  readonly layerBytes: Uint8Array;
}

interface Case {
  readonly fixture: Fixture;
  readonly row: Row;
  readonly artifact: Artifact;
  /** Manifests served by the proxy instead of the registry's (by digest). */
  readonly overrides: ReadonlyMap<string, Uint8Array>;
}

const errorBody = (code: string) => JSON.stringify({ errors: [{ code, message: `fault: ${code}` }] });

describe('every verifier: one answer per registry fault', { timeout: 90_000 }, () => {
  let registry: TestRegistry;
  let net: AtprotoNet;
  let proxy: FaultServer;
  let client: RegistryClient;
  let proxied: RegistryClient;
  let dir: string;
  const fixtures: Fixture[] = [];
  const cases = new Map<string, Case>();
  /** The atproto fixture and case id of each server case (see below). */
  const serverAtproto = new Map<Fault, { id: string; fixture: Fixture }>();
  let nextCase = 0;
  const results = new Map<string, Report>();

  function inject(c: Case, res: ServerResponse, original: Uint8Array): void {
    const status = (code: number, errCode: string, headers: Record<string, string> = {}) =>
      sendJson(res, code, errorBody(errCode), headers);
    switch (c.row.fault) {
      case '401':
        return void status(401, 'UNAUTHORIZED', {
          'www-authenticate': `Bearer realm="http://${proxy.host}/token",service="fault"`,
        });
      case '403':
        return void status(403, 'DENIED');
      case '404':
        return void status(404, c.row.target === 'blob' ? 'BLOB_UNKNOWN' : 'MANIFEST_UNKNOWN');
      case '429':
        return void status(429, 'TOOMANYREQUESTS', { 'retry-after': '1' });
      case '500':
        return void status(500, 'UNKNOWN');
      case '503':
        return void status(503, 'UNAVAILABLE');
      case 'timeout':
        return; // never answers; the verifier's deadline ends the request
      case 'digest-mismatch': {
        const body = Buffer.from(original);
        body[body.length - 1] = (body[body.length - 1] ?? 0) ^ 0x01;
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': `${body.length}`,
        });
        return void res.end(body);
      }
      case 'oversize': {
        // streamed without a length: the limit is found while reading
        res.writeHead(200, {
          'content-type': c.row.target === 'manifest' ? MediaType.OciManifest : 'application/octet-stream',
        });
        return void res.end(Buffer.concat([original, Buffer.alloc(64 * 1024, 0x20)]));
      }
      case 'schema1-content-type':
        res.writeHead(200, { 'content-type': SCHEMA1, 'content-length': `${original.length}` });
        return void res.end(original);
      default:
        throw new Error(`fault ${c.row.fault} has no injection`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '';
    if (url === '/v2/') return sendJson(res, 200, {});
    if (url.startsWith('/token')) return sendJson(res, 200, { token: 'fault-token' });
    const m = /^\/v2\/([cs]\d+)\/(.+?)\/(manifests|blobs|referrers|tags)\/(.+)$/.exec(url);
    const c = m ? cases.get(m[1] as string) : undefined;
    if (!m || !c) return void res.writeHead(404).end();
    const [, , repo, kind, ref] = m as unknown as [string, string, string, string, string];
    const { fixture, row } = c;
    const isManifest = kind === 'manifests' && ref === c.artifact.descriptor.digest;
    const isLayer = kind === 'blobs' && ref === fixture.layer.digest;
    if (
      req.method === 'GET' &&
      ((row.target === 'manifest' && isManifest) || (row.target === 'blob' && isLayer))
    )
      return inject(c, res, isManifest ? fixture.manifestBytes : fixture.layerBytes);
    const override = kind === 'manifests' ? c.overrides.get(ref) : undefined;
    if (override) {
      res.writeHead(200, {
        'content-type': c.artifact.descriptor.mediaType,
        'docker-content-digest': ref,
        'content-length': `${override.length}`,
      });
      return void res.end(req.method === 'HEAD' ? undefined : override);
    }
    return forwardTo(req, res, registry.host, `/v2/${repo}/${kind}/${ref}`);
  }

  /** A fixture from an artifact on the registry: its manifest and its one layer, read once. */
  async function fixtureOf(
    label: string,
    verifier: Verifier,
    repoPath: string,
    subject: Descriptor,
    artifact: Artifact,
  ): Promise<Fixture> {
    const repo = client.repository(parseReference(`${registry.host}/${repoPath}`));
    const fetched = await repo.fetchManifest(artifact.descriptor);
    assert.equal(fetched.manifest.kind, 'manifest');
    const layers = fetched.manifest.kind === 'manifest' ? fetched.manifest.layers : [];
    assert.equal(layers.length, 1, `${label}: one layer`);
    const layer = layers[0] as Descriptor;
    const layerBytes = await repo.fetchBlob(layer, { maxBytes: 1 << 22 });
    return { label, verifier, repoPath, subject, artifact, manifestBytes: fetched.bytes, layer, layerBytes };
  }

  before(async () => {
    [registry, net, proxy] = await Promise.all([startRegistry(), startAtprotoNet(), startFaultServer()]);
    proxy.handle(handle);
    client = createRegistryClient({ insecureHosts: [registry.host], logger: silentLogger });
    proxied = createRegistryClient({ insecureHosts: [proxy.host], maxRetries: 1, logger: silentLogger });
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-fault-contract-'));
    const repoOf = (p: string) => client.repository(parseReference(`${registry.host}/${p}`));
    const image = (p: string) => pushTestImage(repoOf(p), 'v1', `fault-contract ${p} ${Math.random()}`);

    const notationFixture = async () => {
      const signer = await cert('fault-contract');
      const subject = await image('notation');
      const sig = await signNotation({
        repository: repoOf('notation'),
        subject,
        keyPem: signer.keyPem,
        certChainPem: signer.certPem,
        envelope: 'jws',
      });
      const verifier = createNotationVerifier(trustFor({ ca: [signer.der] }).trust);
      const artifact: Artifact = {
        descriptor: sig,
        kind: 'referrer',
        source: 'referrers-api',
        referrers: [],
      };
      return fixtureOf('notation', verifier, 'notation', subject, artifact);
    };

    const cosignFixtures = async () => {
      const pair = generateCosignKeyPair('pw');
      const privateKeyPem = decryptCosignKey(pair.privateKeyFile, 'pw');
      await writeFile(path.join(dir, 'cosign.pub'), pair.publicKeyPem);
      const verifier = createCosignVerifier(
        await loadCosignTrust({ keys: ['cosign.pub'] }, { baseDir: dir }),
      );
      const tagArtifact = async (
        p: string,
        subject: Descriptor,
        suffix: 'sig' | 'att',
      ): Promise<Artifact> => ({
        descriptor: await repoOf(p).resolve(`${subject.digest.replace(':', '-')}.${suffix}`),
        kind: suffix === 'sig' ? 'cosign-signature' : 'cosign-attestation',
        source: 'cosign-tag',
        referrers: [],
      });
      const sigSubject = await image('cosign-sig');
      const name = (p: string) => `${registry.host}/${p}`;
      await signCosign({
        repository: repoOf('cosign-sig'),
        subject: sigSubject,
        subjectReference: name('cosign-sig'),
        privateKeyPem,
        mode: 'tag',
      });
      const bundleSubject = await image('cosign-bundle');
      const bundle = await signCosign({
        repository: repoOf('cosign-bundle'),
        subject: bundleSubject,
        subjectReference: name('cosign-bundle'),
        privateKeyPem,
        mode: 'bundle',
      });
      const attSubject = await image('cosign-att');
      await attestCosign({
        repository: repoOf('cosign-att'),
        subject: attSubject,
        subjectReference: name('cosign-att'),
        predicateType: 'https://slsa.dev/provenance/v1',
        predicate: { buildDefinition: { buildType: 'https://example.com/build' } },
        signer: { privateKeyPem },
      });
      return Promise.all([
        fixtureOf(
          'cosign (tag signature)',
          verifier,
          'cosign-sig',
          sigSubject,
          await tagArtifact('cosign-sig', sigSubject, 'sig'),
        ),
        fixtureOf('cosign (bundle referrer)', verifier, 'cosign-bundle', bundleSubject, {
          descriptor: bundle,
          kind: 'referrer',
          source: 'referrers-api',
          referrers: [],
        }),
        fixtureOf(
          'cosign (attestation)',
          verifier,
          'cosign-att',
          attSubject,
          await tagArtifact('cosign-att', attSubject, 'att'),
        ),
      ]);
    };

    /**
     * An image in `repoPath` signed into the PDS; the record names `imageRepository`, the path the
     * verifier sees (a server case is read as `<case>/<repoPath>`, and the record must say so).
     */
    const atprotoFixture = async (label: string, repoPath: string, imageRepository = repoPath) => {
      const account = await accountReady;
      const subject = await image(repoPath);
      const sig = await signAtproto({
        repository: repoOf(repoPath),
        subject,
        imageRepository,
        pdsUrl: net.pdsUrl,
        identifier: account.handle,
        appPassword: account.appPassword,
        allowPrivateNetwork: true,
        signal: AbortSignal.timeout(30_000),
      });
      const trust = await loadAtprotoTrust(
        { plcUrl: net.plcUrl, allowPrivateNetwork: true, trustPolicy: trustPolicy({ [account.did]: {} }) },
        { baseDir: '.' },
      );
      const verifier = createAtprotoVerifier(trust, {
        resolveTxt: async (host) => {
          if (host === `_atproto.${account.handle}`) return [[`did=${account.did}`]];
          throw Object.assign(new Error(`no TXT for ${host}`), { code: 'ENOTFOUND' });
        },
      });
      const artifact: Artifact = {
        descriptor: sig,
        kind: 'referrer',
        source: 'referrers-api',
        referrers: [],
      };
      return fixtureOf(label, verifier, repoPath, subject, artifact);
    };
    const accountReady = net.createAccount('faults');

    const contentFixture = async (label: string, verifier: Verifier, type: string, doc: Uint8Array) => {
      const subject = await image(verifier.name.toLowerCase());
      const descriptor = await attachArtifact(repoOf(verifier.name.toLowerCase()), {
        subject,
        artifactType: type,
        layers: [{ bytes: doc, mediaType: type }],
        annotations: { 'org.opencontainers.image.created': new Date().toISOString() },
      });
      const artifact: Artifact = { descriptor, kind: 'referrer', source: 'referrers-api', referrers: [] };
      return fixtureOf(label, verifier, verifier.name.toLowerCase(), subject, artifact);
    };

    // the server reads each atproto case under a fixed case id, so its record names that path
    const serverReady = Promise.all(
      SERVER_FAULTS.map(async (fault, i) => {
        const id = `s${i}`;
        serverAtproto.set(fault, {
          id,
          fixture: await atprotoFixture('atproto', `srv${i}`, `${id}/srv${i}`),
        });
      }),
    );
    const built = await Promise.all([
      notationFixture(),
      cosignFixtures(),
      atprotoFixture('atproto', 'atproto'),
      contentFixture(
        'sbom',
        createSbomVerifier(sbomConfigSchema.parse({ disallowedLicenses: ['GPL-3.0-only'] }), []),
        'application/spdx+json',
        spdxSbom([{ name: 'musl', version: '1.2.5', license: 'MIT' }]),
      ),
      contentFixture(
        'vulnerabilityReport',
        createVulnerabilityReportVerifier(
          vulnerabilityReportConfigSchema.parse({ disallowedSeverities: ['critical'] }),
          [],
        ),
        'application/sarif+json',
        sarifReport([{ cve: 'CVE-2024-5000', severity: 'low' }]),
      ),
    ]);
    fixtures.push(...built.flat());
    await serverReady;
  });

  after(async () => {
    if (process.env.VOUCH_FAULT_TABLE) printTable();
    await Promise.allSettled([client?.close(), proxied?.close()]);
    await Promise.allSettled([proxy?.stop(), registry?.stop(), net?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The artifact a case presents, and the manifests the proxy serves in place of the registry's. */
  function caseOf(fixture: Fixture, row: Row): Case {
    const rewritten = (bytes: Uint8Array): Case => {
      const descriptor: Descriptor = {
        ...fixture.artifact.descriptor,
        digest: computeDigest(bytes),
        size: bytes.length,
      };
      return {
        fixture,
        row,
        artifact: { ...fixture.artifact, descriptor },
        overrides: new Map([[descriptor.digest, bytes]]),
      };
    };
    if (row.fault === 'invalid-json')
      return rewritten(
        new TextEncoder().encode(`{"schemaVersion":2,"mediaType":"${MediaType.OciManifest}","layers":[`),
      );
    if (row.fault === 'wrong-layer-type') {
      const json = JSON.parse(Buffer.from(fixture.manifestBytes).toString('utf8')) as {
        layers: Array<{ mediaType: string }>;
      };
      for (const l of json.layers) l.mediaType = 'text/plain';
      return rewritten(new TextEncoder().encode(JSON.stringify(json)));
    }
    return { fixture, row, artifact: fixture.artifact, overrides: new Map() };
  }

  async function run(fixture: Fixture, row: Row): Promise<Report> {
    const id = `c${nextCase++}`;
    const c = caseOf(fixture, row);
    cases.set(id, c);
    const name = `${registry.host}/${fixture.repoPath}`;
    const repository = proxied.repository(parseReference(`${proxy.host}/${id}/${fixture.repoPath}`));
    const subject: Subject = {
      name,
      reference: parseReference(`${name}@${fixture.subject.digest}`),
      descriptor: fixture.subject,
      repository,
    };
    assert.ok(fixture.verifier.accepts(c.artifact), `${fixture.label} accepts its artifact`);
    const report = await verifyArtifact(fixture.verifier, subject, c.artifact, {
      repository,
      signal: AbortSignal.timeout(row.fault === 'timeout' ? TIMEOUT_MS : 20_000),
      cache: createMemoryCache(),
      now: new Date(),
      logger: silentLogger,
    });
    results.set(`${rowName(row)}|${fixture.label}`, report);
    return report;
  }

  function printTable(): void {
    const labels = fixtures.map((f) => f.label);
    const lines = [`| fault | ${labels.join(' | ')} |`, `|---|${labels.map(() => '---').join('|')}|`];
    for (const row of ROWS) {
      const cells = labels.map((l) => {
        const r = results.get(`${rowName(row)}|${l}`);
        return r ? `${r.outcome} / ${r.reason}` : '—';
      });
      lines.push(`| ${rowName(row)} | ${cells.join(' | ')} |`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }

  describe('when one request for the artifact is broken', { concurrency: true }, () => {
    for (const row of ROWS) {
      const [outcome, reason] = row.expect;
      it(`${rowName(row)}: every verifier answers ${outcome} / ${reason}`, async () => {
        const reports = await Promise.all(fixtures.map((f) => run(f, row)));
        assert.equal(reports.length, 7);
        const got = reports.map((r, i) => `${fixtures[i]?.label}: ${r.outcome} / ${r.reason}`);
        const want = fixtures.map((f) => `${f.label}: ${outcome} / ${reason}`);
        assert.deepEqual(got, want, reports.map((r) => r.message).join('\n'));
      });
    }
  });
  describe('when the server decides through a fault', { concurrency: true }, () => {
    // Only a decision without an inconclusive report may be cached (src/server/decisions.ts): the
    // same image asked again after the fault is gone is decided again, and allowed; a failed
    // report is final and its denial is cached.
    for (const [label, fault, cachedAfter] of (['notation', 'atproto'] as const).flatMap((l) =>
      SERVER_CASES.map(([f, c]) => [l, f, c] as const),
    )) {
      const row = ROWS.find((r) => r.fault === fault && r.target === 'manifest') as Row;
      const [outcome, reason] = row.expect;
      it(`${label}: ${fault} on the signature: denied (${outcome} / ${reason}), ${cachedAfter ? 'and the denial is cached' : 'not cached; allowed once the registry answers'}`, async () => {
        const own = label === 'atproto' ? serverAtproto.get(fault) : undefined;
        const fixture = own?.fixture ?? (fixtures.find((f) => f.label === label) as Fixture);
        const id = own?.id ?? `c${nextCase++}`;
        cases.set(id, caseOf(fixture, row));
        const engine = new Engine({
          verifiers: [fixture.verifier],
          policy: compilePolicy(
            policySchema.parse({ rules: [{ name: 'r', scope: '**', require: [{ verifier: label }] }] }),
          ),
          registry: proxied,
          cache: createMemoryCache(),
          logger: silentLogger,
        });
        const service = createDecisionService({
          engine,
          cache: createMemoryCache(),
          metrics: createServerMetrics(),
          logger: silentLogger,
          computeTimeoutMs: 10_000,
          imageConcurrency: 4,
          cacheEnabled: true,
          ttlMs: 60_000,
          negativeTtlMs: 60_000,
          resolveTtlMs: 60_000,
        });
        const key = `${proxy.host}/${id}/${fixture.repoPath}:v1`;
        const decide = async () => {
          const r = await service.decide(key, AbortSignal.timeout(15_000));
          assert.equal(r.kind, 'decision', JSON.stringify(r));
          return r.kind === 'decision' ? r : assert.fail('no decision');
        };
        const first = await decide();
        assert.equal(first.decision.allowed, false);
        assert.equal(first.cached, false);
        const report = first.decision.reports.find((r) => r.verifier === label);
        assert.deepEqual([report?.outcome, report?.reason], [outcome, reason], report?.message);

        cases.set(id, caseOf(fixture, ROWS[0] as Row)); // the registry answers again
        const second = await decide();
        assert.equal(second.cached, cachedAfter);
        assert.equal(second.decision.allowed, !cachedAfter, second.decision.why.join('; '));
        if (!cachedAfter) {
          const third = await decide();
          assert.deepEqual([third.cached, third.decision.allowed], [true, true], 'the allow is cached');
        }
      });
    }
  });
});

function rowName(row: Row): string {
  return row.target ? `${row.fault} (${row.target})` : row.fault;
}

describe('the documented table', () => {
  it('docs/architecture.md "Registry faults: one table" is what classify.ts answers, row by row', async () => {
    const doc = await readFile(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Registry faults: one table'));
    const rows = section
      .slice(0, section.indexOf('\n## ', 3))
      .split('\n')
      .filter((l) => /^\| [^-]/.test(l) && !l.startsWith('| error code'))
      .map((l) => l.split('|').map((c) => c.trim()));
    assert.ok(rows.length >= 12, `${rows.length} rows`);
    for (const [, first = '', outcome, reason] of rows) {
      const expected = { outcome, reason: reason?.replaceAll('`', '') };
      const codes = [...first.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1] as VouchErrorCode);
      if (first.startsWith('anything else')) codes.push('INTERNAL');
      if (first.includes('MEDIA_TYPE_MISMATCH')) {
        assert.deepEqual({ ...MEDIA_TYPE_MISMATCH }, expected);
        continue;
      }
      assert.ok(codes.length > 0, `a row without an error code: ${first}`);
      for (const code of codes) {
        const { outcome: o, reason: r } = classifyFetchError(new VouchError(code, 'x'));
        assert.deepEqual({ outcome: o, reason: r }, expected, code);
      }
    }
  });
});
