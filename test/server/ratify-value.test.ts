/**
 * The validate value on Ratify's provider paths, over HTTP, field by field as Ratify's templates
 * read it (docs/gatekeeper.md "Ratify's templates behind vouch"; Ratify v1.4.0
 * pkg/verifier/result.go `VerifierResult`, pkg/executor/types/types.go `VerifyResult`; Ratify v2
 * internal/httpserver/response.go `succeeded`): notation-signed images with signed SBOMs and
 * vulnerability reports on a real registry (../gatekeeper-rego/library-world.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import {
  type LibraryWorld,
  NOTARY_SIGNATURE,
  SIGNER_ISSUER,
  startLibraryWorld,
} from '../gatekeeper-rego/library-world.js';
import { type RunningServer, startServer } from './harness.js';

interface Report {
  subject: string;
  isSuccess: boolean;
  name: string;
  verifierName: string;
  type: string;
  verifierType: string;
  referenceDigest: string;
  artifactType?: string;
  message: string;
  errorReason?: string;
  extensions: Record<string, unknown>;
  nestedResults?: Report[];
}

interface Value {
  isSuccess: boolean;
  succeeded: boolean;
  allowed: boolean;
  subject: string;
  digest: string;
  traceID: string;
  verifierReports: Report[];
}

interface Item {
  key: string;
  value?: Value;
  error?: string;
}

const RATIFY_PATHS = ['/ratify/gatekeeper/v1/verify', '/ratify/gatekeeper/v2/verify'];

describe("the validate value on Ratify's paths", { timeout: 120_000 }, () => {
  let lib: LibraryWorld;
  let dir: string;
  let vouch: RunningServer;

  before(async () => {
    lib = await startLibraryWorld();
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-ratify-value-'));
    for (const [name, content] of Object.entries(lib.files)) await writeFile(path.join(dir, name), content);
    vouch = await startServer(lib.config, { tls: { insecureHttp: true } }, { baseDir: dir });
  });
  after(async () => {
    await vouch?.stop();
    await lib?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const verify = async (p: string, keys: readonly string[]): Promise<Item[]> => {
    const res = await request(`${vouch.url}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
        kind: 'ProviderRequest',
        request: { keys },
      }),
    });
    assert.equal(res.statusCode, 200);
    const body = (await res.body.json()) as { response: { items: Item[]; systemError?: string } };
    assert.equal(body.response.systemError, undefined);
    return body.response.items;
  };
  const ratifyValue = async (image: string, p = RATIFY_PATHS[0] as string): Promise<Value> => {
    const [item] = await verify(p, [image]);
    assert.equal(item?.error, undefined, JSON.stringify(item));
    return item?.value as Value;
  };
  const only = (value: Value, type: string): Report => {
    const found = value.verifierReports.filter((r) => r.type === type);
    assert.equal(found.length, 1, `${type}: ${JSON.stringify(value.verifierReports)}`);
    return found[0] as Report;
  };

  describe('when an image is signed and its SBOM and report are signed and clean', () => {
    it('isSuccess (Ratify v1) and succeeded (Ratify v2) are both true', async () => {
      const v = await ratifyValue(lib.image.signed);
      assert.equal(v.isSuccess, true);
      assert.equal(v.succeeded, true);
      assert.equal(v.allowed, true);
    });

    it("the notation report: Ratify's fields, extensions Issuer and SN, no nestedResults", async () => {
      const v = await ratifyValue(lib.image.signed);
      const r = only(v, 'notation');
      assert.equal(r.isSuccess, true);
      assert.equal(r.name, 'notation');
      assert.equal(r.verifierName, 'notation');
      assert.equal(r.verifierType, 'notation');
      assert.equal(r.artifactType, NOTARY_SIGNATURE);
      assert.equal(r.subject, `${lib.host}/lib/signed@${v.digest}`);
      assert.match(r.referenceDigest, /^sha256:[0-9a-f]{64}$/);
      assert.equal(typeof r.message, 'string');
      assert.equal(r.errorReason, undefined);
      assert.equal(r.extensions.Issuer, SIGNER_ISSUER);
      assert.equal(r.extensions.SN, SIGNER_ISSUER, 'self-signed: subject = issuer');
      assert.equal('nestedResults' in r, false);
    });

    it('the SBOM and vulnerability report: types sbom and vulnerabilityreport, signatures nested on them', async () => {
      const v = await ratifyValue(lib.image.signed);
      const sbom = only(v, 'sbom');
      const vuln = only(v, 'vulnerabilityreport');
      assert.equal(sbom.artifactType, 'application/spdx+json');
      assert.equal(vuln.artifactType, 'application/sarif+json');
      assert.equal(vuln.verifierName, 'vulnerabilityReport');
      assert.equal(vuln.verifierType, 'vulnerabilityreport');
      assert.equal(vuln.extensions.scanner, 'Trivy');
      assert.ok(!Number.isNaN(Date.parse(String(vuln.extensions.createdAt))), 'createdAt is RFC 3339');
      for (const content of [sbom, vuln]) {
        assert.equal(content.isSuccess, true);
        assert.equal(content.nestedResults?.length, 1, JSON.stringify(content));
        const [signature] = content.nestedResults ?? [];
        assert.equal(signature?.type, 'notation');
        assert.equal(signature?.artifactType, NOTARY_SIGNATURE);
        assert.equal(signature?.isSuccess, true);
        assert.equal(signature?.extensions.Issuer, SIGNER_ISSUER);
        assert.equal(signature?.subject, `${lib.host}/lib/signed@${content.referenceDigest}`);
      }
    });
  });

  describe('when a report fails or nothing is attached', () => {
    it('a critical CVE: the report is not isSuccess, with its errorReason and severityViolations', async () => {
      const v = await ratifyValue(lib.image.critical);
      assert.equal(v.isSuccess, false);
      assert.equal(v.succeeded, false);
      const vuln = only(v, 'vulnerabilityreport');
      assert.equal(vuln.isSuccess, false);
      assert.equal(vuln.errorReason, 'disallowed-severity');
      assert.match(JSON.stringify(vuln.extensions.severityViolations), /CVE-2024-4000/);
      assert.equal(only(v, 'notation').isSuccess, true);
      assert.equal(only(v, 'sbom').isSuccess, true);
    });

    it('unsigned: isSuccess and succeeded false, no reports', async () => {
      const v = await ratifyValue(lib.image.unsigned);
      assert.equal(v.isSuccess, false);
      assert.equal(v.succeeded, false);
      assert.deepEqual(v.verifierReports, []);
    });
  });

  describe("when asked on each path (vouch's, Ratify v1's, Ratify v2's)", () => {
    it('answers the same value everywhere but the trace id, [namespace] keys included', async () => {
      const keys = [lib.image.signed, `[production]${lib.image.critical}`, lib.image.unsigned];
      const answers = await Promise.all(
        ['/gatekeeper/v1/verify', ...RATIFY_PATHS].map(async (p) =>
          (await verify(p, keys)).map((i) => ({ ...i, value: { ...i.value, traceID: '' } })),
        ),
      );
      assert.deepEqual(
        answers[0]?.map((i) => i.key),
        keys,
      );
      assert.deepEqual(answers[1], answers[0]);
      assert.deepEqual(answers[2], answers[0]);
    });

    it("Ratify v2's mutate path pins a tag to its digest", async () => {
      const res = await request(`${vouch.url}/ratify/gatekeeper/v2/mutate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
          kind: 'ProviderRequest',
          request: { keys: [lib.image.signed] },
        }),
      });
      const body = (await res.body.json()) as { response: { items: Array<{ value?: string }> } };
      const digest = (await ratifyValue(lib.image.signed)).digest;
      assert.equal(body.response.items[0]?.value, `${lib.host}/lib/signed@${digest}`);
    });
  });
});
