/**
 * One image carrying both a Notary Project and a cosign signature, decided under `match: all`
 * and `match: any` policies, end to end: real registry, real signers, config → runtime → engine.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { composeConfig } from '../../src/config/compose.js';
import { buildRuntime } from '../../src/config/runtime.js';
import type { VouchConfigInput } from '../../src/config/schema.js';
import { parseReference } from '../../src/reference/parse.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client.js';
import { signCosign } from '../../src/sign/cosign/index.js';
import { signNotation } from '../../src/sign/notation/index.js';
import { generateTestCertificate } from '../../src/sign/notation/testcert.js';
import { pushTestImage } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

let registry: TestRegistry;
let client: RegistryClient;
let dir: string;
const refs = { both: '', notationOnly: '', cosignOnly: '', none: '' };

before(async () => {
  registry = await startRegistry();
  client = createRegistryClient({ insecureHosts: [registry.host] });
  dir = await mkdtemp(path.join(tmpdir(), 'vouch-mixed-'));
  const cert = await generateTestCertificate({ name: 'mixed.test', keyAlgorithm: 'ec-p256' });
  const cosignKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  await writeFile(path.join(dir, 'ca.crt'), cert.certPem);
  await writeFile(
    path.join(dir, 'cosign.pub'),
    cosignKey.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  );
  const privateKeyPem = cosignKey.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

  for (const [name, withNotation, withCosign] of [
    ['both', true, true],
    ['notationOnly', true, false],
    ['cosignOnly', false, true],
    ['none', false, false],
  ] as const) {
    const ref = `${registry.host}/mixed/${name.toLowerCase()}:v1`;
    const repository = client.repository(parseReference(ref));
    const subject = await pushTestImage(repository, 'v1', `mixed-${name}`);
    if (withNotation) {
      await signNotation({
        repository,
        subject,
        keyPem: cert.keyPem,
        certChainPem: cert.certPem,
        envelope: 'jws',
      });
    }
    if (withCosign) {
      await signCosign({
        repository,
        subject,
        subjectReference: `${registry.host}/mixed/${name.toLowerCase()}`,
        privateKeyPem,
        mode: 'tag',
      });
    }
    refs[name] = ref;
  }
});

after(async () => {
  await client.close();
  await registry.stop();
  await rm(dir, { recursive: true, force: true });
});

async function decide(match: 'all' | 'any', ref: string) {
  const config: VouchConfigInput = {
    registries: { insecure: [registry.host], dockerConfig: false },
    verifiers: {
      notation: {
        trustPolicy: {
          version: '1.0',
          trustPolicies: [
            {
              name: 'mixed',
              registryScopes: ['*'],
              signatureVerification: { level: 'strict' },
              trustStores: ['ca:mixed'],
              trustedIdentities: ['*'],
            },
          ],
        },
        trustStores: { ca: { mixed: ['ca.crt'] } },
      },
      cosign: { keys: ['cosign.pub'] },
    },
    policy: {
      rules: [
        {
          name: `both-${match}`,
          scope: `${registry.host}/mixed/*`,
          match,
          require: [{ verifier: 'notation' }, { verifier: 'cosign' }],
        },
      ],
    },
  };
  const file = path.join(dir, `vouch-${match}.yaml`);
  await writeFile(file, JSON.stringify(config));
  const loaded = await composeConfig({ configFile: file });
  const runtime = await buildRuntime(loaded.config, { baseDir: loaded.baseDir });
  try {
    return await runtime.engine.decide(ref, { signal: AbortSignal.timeout(20_000) });
  } finally {
    await runtime.close();
  }
}

describe('an image with a notation and a cosign signature', () => {
  it('is allowed under "all" only when both verify', async () => {
    const both = await decide('all', refs.both);
    assert.equal(both.allowed, true, both.why.join('; '));
    assert.deepEqual(both.reports.map((r) => `${r.verifier}:${r.outcome}`).sort(), [
      'cosign:verified',
      'notation:verified',
    ]);
    const notationOnly = await decide('all', refs.notationOnly);
    assert.equal(notationOnly.allowed, false);
    assert.match(notationOnly.why.join(), /cosign: no signature found/);
    assert.equal((await decide('all', refs.cosignOnly)).allowed, false);
  });

  it('is allowed under "any" when either verifies, and denied with neither', async () => {
    assert.equal((await decide('any', refs.both)).allowed, true);
    assert.equal((await decide('any', refs.notationOnly)).allowed, true);
    assert.equal((await decide('any', refs.cosignOnly)).allowed, true);
    const none = await decide('any', refs.none);
    assert.equal(none.allowed, false);
    assert.equal(none.why.length, 2, 'both missing requirements are named');
  });
});
