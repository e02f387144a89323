/** createRegistryClient routes registry references to the remote client and oci: references to the layout store. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAnyReference } from '../../../src/reference/parse.js';
import { createRegistryClient, type RegistryClient } from '../../../src/registry/client.js';
import { RemoteRepository } from '../../../src/registry/remote/index.js';
import { buildTestImage, pushTestImage, writeTestLayout } from '../../helpers/images.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';

describe('createRegistryClient', () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let dir: string;

  before(async () => {
    registry = await startRegistry();
    client = createRegistryClient({ insecureHosts: [registry.host] });
    dir = await mkdtemp(join(tmpdir(), 'vouch-client-'));
  });
  after(async () => {
    await client.close();
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives a remote repository for a registry reference', async () => {
    const repo = client.repository(parseAnyReference(`${registry.host}/client/app:v1`));
    assert.ok(repo instanceof RemoteRepository);
    assert.equal(repo.name, `${registry.host}/client/app`);
    const pushed = await pushTestImage(repo, 'v1', 'client');
    assert.equal((await repo.resolve('v1')).digest, pushed.digest);
  });

  it('gives a layout repository for an oci: reference', async () => {
    const image = buildTestImage('client-layout');
    await writeTestLayout(join(dir, 'layout'), image, 'v1');
    const repo = client.repository(parseAnyReference(`oci:${join(dir, 'layout')}:v1`));
    assert.ok(!(repo instanceof RemoteRepository));
    assert.equal((await repo.resolve('v1')).digest, image.manifest.digest);
  });
});
