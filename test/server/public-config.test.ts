/**
 * Loading the public listener's configuration: vouch's signing key as PKCS#8 PEM or as a
 * cosign-encrypted key with its password file, refused with CONFIG_INVALID (naming the field)
 * when it is missing, undecryptable or of an unsupported type; `enabled` without a key, a bad
 * listen address and an invalid namespace name are config errors.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { VouchError } from '../../src/errors.js';
import { parseServerConfig } from '../../src/server/config.js';
import { loadPublicSigningKey } from '../../src/server/public/signing-key.js';
import { generateCosignKeyPair } from '../../src/sign/cosign/index.js';
import { parsePublicKey } from '../../src/verifiers/cosign/public-key.js';

const isConfigError = (pattern: RegExp) => (err: unknown) =>
  err instanceof VouchError && err.code === 'CONFIG_INVALID' && pattern.test(err.message);

describe('server.publicVerification configuration', () => {
  let dir: string;
  const file = (name: string) => path.join(dir, name);
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-public-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a cosign-encrypted key with its password file, and its public key id is the cosign key id', async () => {
    const pair = generateCosignKeyPair('s3cret');
    await writeFile(file('cosign.key'), pair.privateKeyFile);
    await writeFile(file('password'), 's3cret\n');
    const key = await loadPublicSigningKey(file('cosign.key'), file('password'));
    assert.equal(key.publicKey.id, parsePublicKey(pair.publicKeyPem, 'pub').id);
    assert.equal(parsePublicKey(key.publicKeyPem, 'served').id, key.publicKey.id);
    await writeFile(file('wrong'), 'nope\n');
    await assert.rejects(
      loadPublicSigningKey(file('cosign.key'), file('wrong')),
      isConfigError(/does not decrypt/),
    );
    await assert.rejects(
      loadPublicSigningKey(file('cosign.key')),
      isConfigError(/is encrypted; set signingKeyPasswordFile/),
    );
  });

  it('loads Ed25519 PKCS#8, refuses RSA, a missing file and a file that is no key', async () => {
    const ed = generateKeyPairSync('ed25519');
    await writeFile(file('ed.key'), ed.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    assert.equal((await loadPublicSigningKey(file('ed.key'))).publicKey.algorithm, 'ed25519');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(file('rsa.key'), rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    await assert.rejects(loadPublicSigningKey(file('rsa.key')), isConfigError(/signingKeyFile: .* is rsa/));
    await assert.rejects(
      loadPublicSigningKey(file('absent.key')),
      isConfigError(/signingKeyFile: .*absent.key not found/),
    );
    await writeFile(file('junk.key'), 'not a key');
    await assert.rejects(loadPublicSigningKey(file('junk.key')), isConfigError(/is not a PEM private key/));
  });

  it('refuses enabled without a signing key, a bad listen address and a namespace that is no name', () => {
    assert.throws(
      () => parseServerConfig({ publicVerification: { enabled: true } }),
      (err: unknown) => err instanceof VouchError && /publicVerification\.signingKeyFile/.test(err.message),
    );
    assert.throws(() => parseServerConfig({ publicVerification: { listen: 'everywhere' } }), /HOST:PORT/);
    assert.throws(
      () => parseServerConfig({ publicVerification: { namespaces: ['Not_A_Name'] } }),
      /namespace/,
    );
    assert.throws(
      () => parseServerConfig({ verificationDetails: { keys: { 'bad name!': 'k.pub' } } }),
      /verificationDetails\.keys\.bad name!/,
    );
    const defaults = parseServerConfig({});
    assert.equal(defaults.publicVerification.enabled, false);
    assert.equal(defaults.publicVerification.includePodNames, false);
    assert.deepEqual(defaults.verificationDetails.enforceNamespaces, []);
  });
});
