/**
 * The shared egress rules (src/net/egress.ts): how addresses are classified, which learned URLs are
 * refused before any request, and the connect-time check on resolved addresses (DNS rebinding),
 * against a real server on loopback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { isVouchError } from '../../src/errors.js';
import {
  type AddressClass,
  canonicalHost,
  checkEgressUrl,
  classifyAddress,
  EGRESS_LOOKUP_CODE,
  egressAgent,
  egressLookupError,
  publicOnlyLookup,
} from '../../src/net/egress.js';
import { type FaultServer, startFaultServer } from '../helpers/fault-server.js';

describe('when an address is classified', () => {
  const cases: ReadonlyArray<[string, AddressClass]> = [
    // IPv4, dotted
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['1.1.1.1', 'public'],
    // IPv4, the other forms the URL parser accepts: decimal, octal, hex, short
    ['2130706433', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['017700000001', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['127.1', 'loopback'],
    ['0xa9fea9fe', 'link-local'],
    ['3232235777', 'private'],
    ['134744072', 'public'],
    // IPv6
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['FE80::abcd', 'link-local'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['64:ff9b::a00:1', 'reserved'],
    ['2606:4700::1111', 'public'],
    ['2a00:1450:4001::200e', 'public'],
    // IPv4 inside IPv6: mapped, compatible, 6to4
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:169.254.169.254]', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['::127.0.0.1', 'loopback'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
    ['2002:808:808::1', 'public'],
    // not an IP address at all
    ['example.com', 'reserved'],
  ];
  for (const [address, expected] of cases) {
    it(`${address} is ${expected}`, () => {
      assert.equal(classifyAddress(address), expected);
    });
  }

  it('canonicalizes the IPv4 forms a URL host may take', () => {
    assert.equal(canonicalHost('2130706433'), '127.0.0.1');
    assert.equal(canonicalHost('0x7f.0.0.1'), '127.0.0.1');
    assert.equal(canonicalHost('[::1]'), '::1');
    assert.equal(canonicalHost('Registry.Example.COM'), 'registry.example.com');
  });
});

describe('when a learned URL is checked before any request', () => {
  const refused = (u: string, allowPrivateNetwork = false) => {
    try {
      checkEgressUrl(new URL(u), { allowPrivateNetwork, what: 'the test URL' });
      return 'ok';
    } catch (err) {
      assert.ok(isVouchError(err, 'EGRESS_REFUSED'), String(err));
      return err.details.reason as string;
    }
  };

  it('refuses non-public IP literals in every spelling, and local names', () => {
    for (const u of [
      'http://127.0.0.1:5000/token',
      'http://2130706433/',
      'http://0177.0.0.1/',
      'http://0x7f.1/',
      'https://[::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://[fe80::1]/',
      'https://[fc00::5]/',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/',
      'http://localhost:8080/',
      'http://metadata.localhost/',
      'http://intranet/',
    ]) {
      assert.notEqual(refused(u), 'ok', u);
      assert.equal(refused(u, true), 'ok', `${u} with allowPrivateNetwork`);
    }
    assert.match(refused('http://169.254.169.254/'), /link-local/);
    assert.match(refused('http://localhost/'), /local name/);
  });

  it('lets public addresses and names through (their resolved addresses are checked at connect)', () => {
    for (const u of ['https://auth.docker.io/token', 'https://8.8.8.8/', 'https://[2606:4700::1111]/'])
      assert.equal(refused(u), 'ok', u);
  });

  it('refuses schemes outside the allow-list even when private networks are allowed', () => {
    assert.equal(refused('ftp://example.com/x', true), 'scheme');
    assert.equal(refused('file:///etc/passwd', true), 'scheme');
    assert.throws(
      () =>
        checkEgressUrl(new URL('http://example.com/'), {
          allowPrivateNetwork: true,
          schemes: ['https:'],
          what: 'x',
        }),
      (err: unknown) => isVouchError(err, 'EGRESS_REFUSED'),
    );
  });
});

describe('when a name resolves to a non-public address at connect time', () => {
  let server: FaultServer;
  before(async () => {
    server = await startFaultServer((_req, res) => void res.writeHead(200).end('reached'));
  });
  after(() => server.stop());

  it('the public-only lookup fails for localhost', async () => {
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      publicOnlyLookup('localhost', {}, (e) => resolve(e)),
    );
    assert.equal(err?.code, EGRESS_LOOKUP_CODE);
    assert.match(String(err?.message), /localhost resolves to a loopback address/);
  });

  it('the egress agent never connects to it; a plain agent does', async () => {
    const port = server.host.split(':')[1];
    const agent = egressAgent({});
    try {
      const err = await request(`http://localhost:${port}/`, { dispatcher: agent }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(egressLookupError(err), `expected a refused lookup, got ${String(err)}`);
      assert.equal(server.requests.length, 0, 'no request reached the server');
    } finally {
      await agent.close();
    }
    const res = await request(`http://localhost:${port}/`);
    assert.equal(await res.body.text(), 'reached');
    assert.equal(server.requests.length, 1);
  });
});
