/**
 * SSRF guard for URLs that come from the identity network (did:web hosts, PDS endpoints from DID
 * documents, handle well-known URLs). Unless `allowPrivateNetwork` is set, IP-literal hosts and
 * loopback names are refused before any request, and names that resolve to loopback, private,
 * link-local or otherwise non-public addresses are refused at connect time (so DNS answers cannot
 * smuggle a private address in).
 */
import dns from 'node:dns';
import net from 'node:net';
import { Agent } from 'undici';
import { AtprotoFailure } from '../failure.js';

const blocked = new net.BlockList();
for (const [addr, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3],
] as const) {
  blocked.addSubnet(addr, prefix, 'ipv4');
}
for (const [addr, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(addr, prefix, 'ipv6');
}

/** True when `address` (an IP literal) is loopback, private, link-local, reserved or mapped. */
export function isNonPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return true;
  if (family === 6 && address.toLowerCase().startsWith('::ffff:')) {
    const v4 = address.slice(7);
    if (net.isIPv4(v4)) return blocked.check(v4, 'ipv4');
  }
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Refuses a URL whose host is an IP literal or a loopback name, unless private networks are
 * allowed. `what` names the URL's origin for the message ("the did:web host", "the PDS endpoint").
 */
export function checkUrlHost(url: URL, allowPrivateNetwork: boolean, what: string): void {
  if (allowPrivateNetwork) return;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (net.isIP(host) !== 0) {
    throw new AtprotoFailure(
      'forbidden-address',
      `${what} ${url.host} is an IP address; refused (allowPrivateNetwork is off)`,
    );
  }
  if (host === 'localhost' || host.endsWith('.localhost') || !host.includes('.')) {
    throw new AtprotoFailure(
      'forbidden-address',
      `${what} ${url.host} is a local name; refused (allowPrivateNetwork is off)`,
    );
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/** A DNS lookup that fails for names resolving to non-public addresses. */
function publicOnlyLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const list = addresses as dns.LookupAddress[];
    const bad = list.find((a) => isNonPublicAddress(a.address));
    if (bad || list.length === 0) {
      const e: NodeJS.ErrnoException = new Error(`${hostname} resolves to a non-public address; refused`);
      e.code = 'EVOUCHPRIVATE';
      return callback(e, []);
    }
    if (options.all) return callback(null, list);
    const first = list[0]!;
    callback(null, first.address, first.family);
  });
}

let publicAgent: Agent | undefined;
let anyAgent: Agent | undefined;

/** The undici dispatcher for identity-network requests (no redirects are followed by callers). */
export function identityAgent(allowPrivateNetwork: boolean): Agent {
  if (allowPrivateNetwork) {
    anyAgent ??= new Agent({ connections: 32, keepAliveTimeout: 10_000 });
    return anyAgent;
  }
  publicAgent ??= new Agent({
    connections: 32,
    keepAliveTimeout: 10_000,
    connect: { lookup: publicOnlyLookup as never },
  });
  return publicAgent;
}
