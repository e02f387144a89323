/**
 * Fault suite (issue 15, item 2): the registry answers a different digest for the same tag between
 * Gatekeeper's mutate (which resolves the tag and pins the workload to the digest) and validate.
 * Real server (HTTPS, mTLS), real registry, cosign-signed images; the tag is moved by pushing
 * another manifest under it, as a registry user would.
 *
 * Asserted: the pinned reference (what runs after mutation) is decided on its own digest and stays
 * allowed; an answer for the tag is always about a named digest, and an allow is only ever for the
 * signed one, never for the unsigned digest the tag now names; once the tag resolution's lifetime
 * (`server.cache.resolveTtlSeconds`) ends, the tag's answer is about the new digest (the time that
 * takes is logged); the reverse move (unsigned → signed) is allowed after the same lifetime, not held
 * back by the earlier denial; a registry whose HEAD names a signed digest while its GET serves an
 * unsigned manifest under the tag (a hand-written fault server in front of the real one) gets no allow
 * for bytes that do not match the digest decided.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseReference } from '../../src/reference/parse.js';
import { type FaultServer, startFaultServer } from '../helpers/fault-server.js';
import { buildTestImage, pushImage } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  cosignConfig,
  createClient,
  createPki,
  createSignedImages,
  type RunningServer,
  type SignedImages,
  startServer,
  type TestClient,
} from '../server/harness.js';
import { allows, assertStillServing, logRecovery, provider, timeToRecover } from './fault-kit.js';

const FILE = 'digest-change';
const RESOLVE_TTL_S = 1;

describe('fault: a tag answers another digest between mutate and validate', { timeout: 60_000 }, () => {
  let registry: TestRegistry;
  let images: SignedImages;
  let liar: FaultServer;
  let vouch: RunningServer;
  let client: TestClient;

  /** Points `repo:tag` at a fresh unsigned image; returns its digest. */
  const moveTagToUnsigned = async (repo: string, tag: string): Promise<string> => {
    const image = buildTestImage(`unsigned-${repo}-${tag}-${Math.random()}`);
    await pushImage(images.client.repository(parseReference(`${registry.host}/${repo}:${tag}`)), image, tag);
    return image.manifest.digest;
  };
  const digestOf = (item: { value?: { digest?: string } } | undefined) => item?.value?.digest;

  before(async () => {
    let pki: Awaited<ReturnType<typeof createPki>>;
    [registry, pki] = await Promise.all([startRegistry(), createPki()]);
    images = await createSignedImages(registry.host);
    liar = await startFaultServer();
    const caFile = path.join(pki.dir, 'ca.crt');
    const server = await pki.leaf('server');
    vouch = await startServer(cosignConfig([registry.host, liar.host], images.publicKeyFile), {
      tls: { certFile: server.cert, keyFile: server.key, clientCaFile: caFile },
      cache: { resolveTtlSeconds: RESOLVE_TTL_S },
    });
    client = await createClient(caFile, await pki.leaf('gatekeeper'));
    await images.push('app', 'warm', true);
    assert.ok(allows((await provider(client, vouch.url, [`${registry.host}/app:warm`])).items[0]));
  });
  after(async () => {
    await client?.close();
    await vouch?.stop();
    await liar?.stop();
    await images?.close();
    await registry?.stop();
  });

  it('when the tag moves to an unsigned digest after mutate: the pinned digest runs and is allowed, the unsigned one never is', async () => {
    const signed = await images.push('app', 'v1', true);
    const tag = `${registry.host}/app:v1`;
    const mutated = await provider(client, vouch.url, [tag], '/gatekeeper/v1/mutate');
    const pinned = mutated.items[0]?.value as unknown as string;
    assert.equal(pinned, `${registry.host}/app@${signed.digest}`, 'mutate pins the tag to the signed digest');
    // validate of the tag before the move warms its resolution (as Gatekeeper's audit would)
    assert.ok(allows((await provider(client, vouch.url, [tag])).items[0]));

    const unsigned = await moveTagToUnsigned('app', 'v1');
    const moved = performance.now();
    const answers: Array<{ digest: string | undefined; allowed: boolean; ms: number }> = [];
    const [, servingMs] = await Promise.all([
      (async () => {
        while (performance.now() - moved < (RESOLVE_TTL_S + 2) * 1000) {
          const res = await provider(client, vouch.url, [tag, pinned]);
          const [byTag, byDigest] = res.items;
          answers.push({ digest: digestOf(byTag), allowed: allows(byTag), ms: performance.now() - moved });
          assert.ok(allows(byDigest), 'the pinned digest (what the kubelet pulls) stays allowed');
          assert.equal(digestOf(byDigest), signed.digest);
          if (allows(byTag)) assert.equal(digestOf(byTag), signed.digest, 'an allow names the signed digest');
          if (digestOf(byTag) === unsigned)
            assert.equal(allows(byTag), false, 'the unsigned digest is allowed');
          await new Promise((r) => setTimeout(r, 100));
        }
      })(),
      assertStillServing(client, vouch.url, `${registry.host}/app:warm`),
    ]);
    const firstNew = answers.findIndex((a) => a.digest === unsigned);
    assert.ok(
      firstNew >= 0,
      `the tag's answer never moved to the new digest: ${JSON.stringify(answers.slice(-3))}`,
    );
    assert.ok(answers.slice(firstNew).every((a) => a.digest === unsigned && !a.allowed));
    // after the move, mutate pins the new digest, and validate of it is a denial
    const again = await provider(client, vouch.url, [tag], '/gatekeeper/v1/mutate');
    assert.equal(again.items[0]?.value as unknown as string, `${registry.host}/app@${unsigned}`);
    const denied = await provider(client, vouch.url, [`${registry.host}/app@${unsigned}`]);
    assert.equal(allows(denied.items[0]), false);
    console.log(`[fault-suite] ${FILE}: health+warm during the move ${Math.round(servingMs)} ms`);
    const seen = answers.filter((a) => a.digest === signed.digest).length;
    logRecovery(
      FILE,
      'tag moved to an unsigned digest',
      answers[firstNew]?.ms ?? 0,
      `first answer about the new digest; ${seen} of ${answers.length} answers before it were about the old signed digest (resolution lifetime ${RESOLVE_TTL_S} s)`,
    );
    assert.ok(
      (answers[firstNew]?.ms ?? 0) < (RESOLVE_TTL_S + 1.5) * 1000,
      'the old resolution outlived its lifetime',
    );
  });

  it('when the tag moves from an unsigned to a signed digest: the earlier denial does not hold the fix back', async () => {
    const tag = `${registry.host}/app:fix`;
    await moveTagToUnsigned('app', 'fix');
    const before = await provider(client, vouch.url, [tag]);
    assert.equal(allows(before.items[0]), false);
    const signed = await images.push('app', 'fix', true);
    const ms = await timeToRecover(
      async () => {
        const res = await provider(client, vouch.url, [tag]);
        return allows(res.items[0]) && digestOf(res.items[0]) === signed.digest;
      },
      (RESOLVE_TTL_S + 4) * 1000,
    );
    logRecovery(FILE, 'tag moved to a signed digest', ms, `resolution lifetime ${RESOLVE_TTL_S} s`);
  });

  it('when HEAD names the signed digest but GET serves an unsigned manifest for the tag: no allow for the unsigned bytes', async () => {
    const signed = await images.push('lie', 'v1', true);
    const evil = buildTestImage(`lie-evil-${Math.random()}`);
    await pushImage(images.client.repository(parseReference(`${registry.host}/lie:evil`)), evil, 'evil');
    // the liar forwards everything to the real registry, except the tag's manifest: HEAD answers
    // with the signed digest, GET with the unsigned manifest's bytes under that same digest header
    liar.handle(async (req, res) => {
      const url = req.url ?? '';
      const isTag = url === '/v2/lie/manifests/v1';
      const upstream = await fetch(
        `http://${registry.host}${isTag && req.method === 'GET' ? '/v2/lie/manifests/evil' : url}`,
        { method: req.method, headers: { accept: String(req.headers.accept ?? '*/*') } },
      );
      const headers: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (k !== 'content-encoding' && k !== 'transfer-encoding') headers[k] = v;
      });
      if (isTag) headers['docker-content-digest'] = signed.digest;
      const body = Buffer.from(await upstream.arrayBuffer());
      if (req.method !== 'HEAD') headers['content-length'] = String(body.byteLength);
      res.writeHead(upstream.status, headers).end(req.method === 'HEAD' ? undefined : body);
    });
    const tag = `${liar.host}/lie:v1`;
    const mutated = await provider(client, vouch.url, [tag], '/gatekeeper/v1/mutate');
    const validated = await provider(client, vouch.url, [tag]);
    const pinned = mutated.items[0]?.value as unknown as string | undefined;
    console.log(
      `[fault-suite] ${FILE}: lying registry: mutate ${JSON.stringify(mutated.items[0])}, validate ${allows(validated.items[0]) ? 'allow' : 'deny'} ${digestOf(validated.items[0]) ?? validated.items[0]?.error}`,
    );
    // whatever vouch decides, an allow is for the signed digest only, and the pin names that digest
    if (allows(validated.items[0])) assert.equal(digestOf(validated.items[0]), signed.digest);
    assert.notEqual(
      digestOf(validated.items[0]),
      evil.manifest.digest,
      'decided on the unsigned digest as if signed',
    );
    if (pinned !== undefined)
      assert.ok(!pinned.endsWith(evil.manifest.digest) || !allows(validated.items[0]));
    // the pinned digest itself: its bytes are fetched by digest and checked
    const byDigest = await provider(client, vouch.url, [`${liar.host}/lie@${evil.manifest.digest}`]);
    assert.equal(allows(byDigest.items[0]), false);
  });
});
