/**
 * VouchTrustedDID's own purpose, under the real Rego engine: images signed with ATProto (a real PLC
 * directory and PDS, test/helpers/atproto-net.ts) by two accounts vouch's trust policy both accepts,
 * and a cluster-side `trustedDIDs` list that names only one of them. vouch allows both; the template
 * passes alice's image and denies mallory's, naming the DID that signed it. Both copies (kustomize,
 * Helm), StrictBuiltinErrors off and on. Skipped, saying so, without ../shared.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistryClient } from '../../src/registry/client.js';
import { type AtprotoNet, startAtprotoNet } from '../helpers/atproto-net.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { type E2E, pushImage, sign } from '../verifiers/atproto/support/e2e-env.js';
import { type ServedVouch, serveVouch } from './live.js';
import { review } from './reviews.js';
import {
  assertViolations,
  DISTINCT_SHIPPED_TEMPLATES,
  escapeRegExp,
  evaluateBoth,
  sentKeys,
  shippedProviderPath,
  type World,
} from './suite.js';
import { createRegoEngine, skipReason } from './vouchrego.js';

const skip = skipReason();
if (skip) process.stderr.write(`SKIPPED: ${skip}\n`);

describe('VouchTrustedDID with ATProto signatures, real Rego engine, vouch serve', {
  skip,
  concurrency: true,
}, () => {
  let net: AtprotoNet;
  let registry: TestRegistry;
  let env: E2E;
  let vouch: ServedVouch;
  const world = {} as World;
  const image: Record<'alice' | 'mallory' | 'unsigned', string> = { alice: '', mallory: '', unsigned: '' };
  const did: Record<'alice' | 'mallory', string> = { alice: '', mallory: '' };

  before(async () => {
    let engine: World['engine'];
    [engine, net, registry] = await Promise.all([createRegoEngine(), startAtprotoNet(), startRegistry()]);
    world.engine = engine;
    const client = createRegistryClient({ insecureHosts: [registry.host], logger: silentLogger });
    env = { net, registry, client, accounts: {} };
    for (const name of ['alice', 'mallory'] as const) {
      const account = await net.createAccount(name);
      env.accounts[name] = account;
      did[name] = account.did;
      const pushed = await pushImage(env, name);
      await sign(env, pushed, account);
      image[name] = `${registry.host}/app:${name}`;
    }
    await pushImage(env, 'unsigned');
    image.unsigned = `${registry.host}/app:unsigned`;
    // vouch trusts both signers; the cluster-side list in the constraint narrows it to alice
    const trust = {
      version: 1,
      trustedDIDs: { [did.alice]: { name: 'alice' }, [did.mallory]: { name: 'mallory' } },
      policies: [{ name: 'all', scope: '**', trustedDIDs: [did.alice, did.mallory] }],
    };
    vouch = await serveVouch(
      {
        registries: { insecure: [registry.host], dockerConfig: false },
        verifiers: {
          atproto: { trustPolicyFile: 'atcr-trust.json', plcUrl: net.plcUrl, allowPrivateNetwork: true },
        },
        policy: {
          default: 'deny',
          rules: [
            { name: 'all', scope: '*', mode: 'enforce', match: 'all', require: [{ verifier: 'atproto' }] },
          ],
        },
      },
      { 'atcr-trust.json': JSON.stringify(trust) },
    );
    world.live = vouch;
  });
  after(async () => {
    await world.engine?.close();
    await vouch?.stop();
    await env?.client.close();
    await Promise.allSettled([net?.stop(), registry?.stop()]);
  });

  for (const template of DISTINCT_SHIPPED_TEMPLATES.filter((t) => t.kind === 'VouchTrustedDID')) {
    const run = (images: string[], trustedDIDs: string[], kind: 'Pod' | 'Deployment' = 'Pod') =>
      evaluateBoth(world, template, {
        review: review(kind, { containers: images }),
        parameters: { imagePrefixes: [`${registry.host}/`], trustedDIDs },
        providers: [{ name: 'vouch', url: `${vouch.url}${shippedProviderPath('vouch')}` }],
      });
    const untrusted = (who: 'mallory' | 'alice') =>
      `image ${image[who]} is not signed by a trusted DID (verified signers: ["${did[who]}"])`;

    describe(template.label, { concurrency: true }, () => {
      it("passes alice's image and denies mallory's, naming its signer's DID", async () => {
        assertViolations(await run([image.alice], [did.alice]), [], 'alice');
        assertViolations(await run([image.mallory], [did.alice]), [untrusted('mallory')], 'mallory');
      });

      it('a Deployment with both: mallory only, one call for both images', async () => {
        const r = await run([image.alice, image.mallory], [did.alice], 'Deployment');
        assertViolations(r, [untrusted('mallory')], template.label);
        assert.deepEqual(sentKeys(r), [image.alice, image.mallory]);
      });

      it('both DIDs listed: no violation; neither: both images, each with its signer', async () => {
        assertViolations(await run([image.alice, image.mallory], [did.alice, did.mallory]), [], 'both');
        assertViolations(
          await run([image.alice, image.mallory], []),
          [untrusted('alice'), untrusted('mallory')],
          'none',
        );
      });

      it('an image with no ATProto signature fails verification in vouch first', async () => {
        const r = await run([image.unsigned], [did.alice]);
        assertViolations(
          r,
          [new RegExp(`^image ${escapeRegExp(image.unsigned)} failed signature verification: .+`)],
          template.label,
        );
      });
    });
  }
});
