import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseReference } from '../../../src/reference/parse.js';
import { type RegistryRequestEvent, RemoteRegistry } from '../../../src/registry/remote/index.js';
import { pushTestImage } from '../../helpers/images.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';

describe('the Referrers API probe (distribution 2.8 has no API)', () => {
  let registry: TestRegistry;

  before(async () => {
    registry = await startRegistry();
  });
  after(async () => {
    await registry.stop();
  });

  it('is made once per registry even when many images ask at once on a cold client', async () => {
    const seed = new RemoteRegistry({ insecureHosts: [registry.host] });
    const subjects = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        pushTestImage(seed.repository(parseReference(`${registry.host}/probe/app${i}`)), 'v1', `probe-${i}`),
      ),
    );
    await seed.close();

    const events: RegistryRequestEvent[] = [];
    const client = new RemoteRegistry({ insecureHosts: [registry.host], onRequest: (e) => events.push(e) });
    try {
      const lists = await Promise.all(
        subjects.map((s, i) =>
          client.repository(parseReference(`${registry.host}/probe/app${i}`)).referrers(s),
        ),
      );
      assert.deepEqual(
        lists.map((l) => l.descriptors.length),
        subjects.map(() => 0),
      );
      const probes = events.filter((e) => e.path.includes('/referrers/'));
      assert.equal(probes.length, 1, `Referrers API probes: ${probes.length}`);
      // each image then costs one tag-schema lookup
      assert.equal(events.filter((e) => /\/manifests\/sha256-/.test(e.path)).length, 20);
    } finally {
      await client.close();
    }
  });
});
