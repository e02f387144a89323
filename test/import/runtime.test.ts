/**
 * `--ratify-config` (src/import/runtime.ts): the Ratify files become a vouch.yaml in a private
 * folder that the config loader reads; the image's registry is the host useHttp reaches; what
 * vouch cannot express, a missing sigstore trusted root and `--config` beside it are errors.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.js';
import { isVouchError } from '../../src/errors.js';
import { configFromRatify } from '../../src/import/runtime.js';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');

const KEYLESS = `apiVersion: config.ratify.deislabs.io/v1beta1
kind: Verifier
metadata:
  name: verifier-cosign
spec:
  name: cosign
  artifactTypes: application/vnd.dev.cosign.artifact.sig.v1+json
  parameters:
    trustPolicies:
      - name: default
        scopes: ['*']
        keyless:
          certificateIdentity: release@acme.example
          certificateOIDCIssuer: https://accounts.google.com
`;

describe('--ratify-config', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'vouch-ratify-runtime-'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('passes --config through when no Ratify file is given, and refuses both', async () => {
    assert.equal(await configFromRatify({ ratifyConfig: [], config: 'vouch.yaml' }), 'vouch.yaml');
    assert.equal(await configFromRatify({ ratifyConfig: [] }), undefined);
    await assert.rejects(
      configFromRatify({ ratifyConfig: [join(FIXTURES, 'ratify-cosign-key.json')], config: 'vouch.yaml' }),
      (e) => isVouchError(e, 'USAGE') && /exclude each other/.test(e.message),
    );
  });

  it('writes a private vouch.yaml that loads, with the image registry as the useHttp host', async () => {
    const file = await configFromRatify(
      { ratifyConfig: [join(FIXTURES, 'ratify-cosign-key.json')] },
      'localhost:5000/acme/app:v1',
    );
    assert.ok(file);
    assert.equal((await stat(dirname(file))).mode & 0o777, 0o700);
    const { config } = await loadConfigFile(file);
    assert.deepEqual(config.registries.insecure, ['localhost:5000']);
    assert.deepEqual(config.verifiers.cosign?.keys, [join(FIXTURES, 'keys/cosign.pub')]);
    assert.match(await readFile(file, 'utf8'), /# from ratify-cosign-key\.json: verifier\.plugins\[0\]/);
  });

  it('fails on what vouch cannot express, listing it in the error details', async () => {
    await assert.rejects(
      configFromRatify({ ratifyConfig: [join(FIXTURES, 'ratify-rego.json')] }),
      (e) =>
        isVouchError(e, 'CONFIG_INVALID') &&
        /rego policy/.test(e.message) &&
        Array.isArray(e.details.unsupported) &&
        e.details.unsupported.length === 1,
    );
  });

  it('names vouch trust-refresh when keyless checks need a trusted root not yet fetched', async () => {
    await writeFile(join(work, 'keyless.yaml'), KEYLESS);
    const cache = join(work, 'tuf');
    await assert.rejects(
      configFromRatify({ ratifyConfig: [join(work, 'keyless.yaml')] }, undefined, cache),
      (e) =>
        isVouchError(e, 'CONFIG_INVALID') &&
        e.message.includes(
          `vouch trust-refresh --mirror https://tuf-repo-cdn.sigstore.dev --cache-dir ${cache}`,
        ),
    );
    await mkdir(cache, { recursive: true });
    await writeFile(join(cache, 'trusted_root.json'), '{}');
    const file = await configFromRatify({ ratifyConfig: [join(work, 'keyless.yaml')] }, undefined, cache);
    const { config } = await loadConfigFile(file as string);
    assert.deepEqual(config.verifiers.cosign?.identities, [
      { subject: 'release@acme.example', issuer: 'https://accounts.google.com' },
    ]);
    assert.equal(config.verifiers.cosign?.tuf?.cacheDir, cache);
  });
});
