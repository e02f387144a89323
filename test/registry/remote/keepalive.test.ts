import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseReference } from '../../../src/reference/parse.js';
import { RemoteRegistry } from '../../../src/registry/remote/index.js';
import { pushTestImage } from '../../helpers/images.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';

/** A plain TCP relay to the real registry that counts the connections clients open through it. */
async function countingRelay(
  targetPort: number,
): Promise<{ host: string; connections(): number; server: Server }> {
  let connections = 0;
  const server = createServer((client) => {
    connections++;
    const upstream = connect(targetPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { host: `127.0.0.1:${port}`, connections: () => connections, server };
}

describe('registry connections are kept alive', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry();
  });
  after(async () => {
    await registry.stop();
  });

  it('reuses connections across resolves (HEAD) and manifest reads', async () => {
    const seed = new RemoteRegistry({ insecureHosts: [registry.host] });
    await pushTestImage(seed.repository(parseReference(`${registry.host}/keepalive/app`)), 'v1', 'keepalive');
    await seed.close();

    const relay = await countingRelay(Number(registry.host.split(':')[1]));
    const client = new RemoteRegistry({ insecureHosts: [relay.host] });
    try {
      const repository = client.repository(parseReference(`${relay.host}/keepalive/app:v1`));
      for (let i = 0; i < 5; i++) {
        const descriptor = await repository.resolve('v1');
        await repository.fetchManifest(descriptor);
      }
      // undici closes the socket after a HEAD unless asked not to: that would be one connection
      // per resolve (6 here); kept alive, the pool may open a second while the first is settling
      assert.ok(relay.connections() <= 2, `connections opened: ${relay.connections()}`);
    } finally {
      await client.close();
      relay.server.close();
    }
  });
});
