/**
 * The Referrers API (distribution 2.8 has none, so a fault server plays a registry that has it):
 * Link pagination, OCI-Filters-Applied, and the per-host probe memo.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseReference } from '../../../src/reference/parse.js';
import { type RegistryRequestEvent, RemoteRegistry } from '../../../src/registry/remote/index.js';
import { type Descriptor, MediaType } from '../../../src/registry/types.js';
import { type FaultServer, sendJson, startFaultServer } from '../../helpers/fault-server.js';
import { buildTestImage } from '../../helpers/images.js';

const subject = buildTestImage('referrers-api-subject');
const sig = (n: number, artifactType: string): Descriptor => ({
  ...buildTestImage(`referrer-${n}`, { subject: subject.manifest, artifactType }).manifest,
});
const SIG = 'application/vnd.example.sig';
const SBOM = 'application/vnd.example.sbom';
const page1 = [sig(1, SIG), sig(2, SBOM)];
const page2 = [sig(3, SIG)];

describe('Referrers API through a fault server', () => {
  let fault: FaultServer;
  let filtersApplied = false;
  const events: RegistryRequestEvent[] = [];
  let client: RemoteRegistry;

  before(async () => {
    fault = await startFaultServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'HEAD' && url.pathname.endsWith('/manifests/v1')) {
        return void res
          .writeHead(200, {
            'content-type': MediaType.OciManifest,
            'docker-content-digest': subject.manifest.digest,
            'content-length': String(subject.manifest.size),
          })
          .end();
      }
      if (url.pathname === `/v2/app/referrers/${subject.manifest.digest}`) {
        const type = url.searchParams.get('artifactType');
        const pick = (list: Descriptor[]) =>
          filtersApplied && type ? list.filter((d) => d.artifactType === type) : list;
        const headers: Record<string, string> = { 'content-type': MediaType.OciIndex };
        if (filtersApplied && type) headers['oci-filters-applied'] = 'artifactType';
        const page = url.searchParams.get('page');
        if (page !== '2')
          headers.link = `</v2/app/referrers/${subject.manifest.digest}?page=2${type ? `&artifactType=${encodeURIComponent(type)}` : ''}>; rel="next"`;
        const manifests = pick(page === '2' ? page2 : page1);
        return sendJson(res, 200, { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }, headers);
      }
      sendJson(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'unknown' }] });
    });
    client = new RemoteRegistry({ insecureHosts: [fault.host], onRequest: (e) => events.push(e) });
  });
  after(async () => {
    await client.close();
    await fault.stop();
  });

  it('follows Link pagination and remembers that the host has the API', async () => {
    const repo = client.repository(parseReference(`${fault.host}/app`));
    events.length = 0;
    const d = await repo.resolve('v1');
    const all = await repo.referrers(d);
    assert.equal(all.source, 'referrers-api');
    assert.deepEqual(
      all.descriptors.map((x) => x.digest),
      [...page1, ...page2].map((x) => x.digest),
    );
    assert.equal(client.referrersApiSupported(fault.host), true);
    // resolve + two referrers pages; no tag-schema request
    assert.deepEqual(
      events.map((e) => `${e.method} ${e.path.replace(/sha256:[0-9a-f]{64}/, '<d>')}`),
      ['HEAD /v2/app/manifests/v1', 'GET /v2/app/referrers/<d>', 'GET /v2/app/referrers/<d>?page=2'],
    );
  });

  it('filters locally when the registry did not apply the filter', async () => {
    filtersApplied = false;
    const repo = client.repository(parseReference(`${fault.host}/app`));
    const sigs = await repo.referrers(subject.manifest.digest, { artifactType: SIG });
    assert.deepEqual(
      sigs.descriptors.map((x) => x.digest),
      [page1[0]?.digest, page2[0]?.digest],
    );
    assert.match(fault.requests.at(-2)?.path ?? '', /\?artifactType=application%2Fvnd\.example\.sig$/);
  });

  it('trusts OCI-Filters-Applied when the registry filtered', async () => {
    filtersApplied = true;
    const before = fault.requests.length;
    const repo = client.repository(parseReference(`${fault.host}/app`));
    const sboms = await repo.referrers(subject.manifest.digest, { artifactType: SBOM });
    assert.deepEqual(
      sboms.descriptors.map((x) => x.digest),
      [page1[1]?.digest],
    );
    assert.equal(fault.requests.length - before, 2);
  });

  it('caps pagination', async () => {
    filtersApplied = false;
    const capped = new RemoteRegistry({ insecureHosts: [fault.host], maxPages: 1 });
    try {
      const list = await capped
        .repository(parseReference(`${fault.host}/app`))
        .referrers(subject.manifest.digest);
      assert.equal(list.descriptors.length, page1.length);
    } finally {
      await capped.close();
    }
  });
});
