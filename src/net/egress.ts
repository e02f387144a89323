/**
 * Egress rules for URLs vouch learns from untrusted data (DID documents, certificates,
 * WWW-Authenticate realms, registry redirects): only public addresses are contacted unless the
 * operator opts in (`allowPrivateNetwork`). URLs the operator configured (the registry asked for,
 * a PLC directory, a TSA) are not checked here; the callers decide which URLs are learned.
 *
 * Two fences, both needed: `checkEgressUrl` refuses IP literals in non-public ranges and local
 * names before any request, and the agent from `egressAgent` checks every address a name resolves
 * to at connect time (its DNS lookup refuses non-public answers), so a DNS answer cannot smuggle a
 * private address in after the first check (DNS rebinding). Ranges: RFC 6890 special-purpose
 * registries (IANA IPv4/IPv6 Special-Purpose Address Registry).
 */
import dns from 'node:dns';
import net from 'node:net';
import { Agent } from 'undici';
import { VouchError } from '../errors.js';

/** What an IP address is, for the egress rule and its messages. */
export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'multicast'
  | 'reserved';

type Range = readonly [address: string, prefix: number, cls: Exclude<AddressClass, 'public'>];

const IPV4: readonly Range[] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private'], // carrier-grade NAT (RFC 6598)
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'], // includes cloud metadata 169.254.169.254
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'], // includes broadcast
];

const IPV6: readonly Range[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['64:ff9b::', 96, 'reserved'], // NAT64: could reach any IPv4 address, private ones included
  ['64:ff9b:1::', 48, 'reserved'],
  ['100::', 64, 'reserved'],
  ['2001:db8::', 32, 'reserved'],
  ['2001::', 32, 'reserved'], // Teredo
  ['fc00::', 7, 'private'], // unique local
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'], // deprecated site-local
  ['ff00::', 8, 'multicast'],
];

function blockList(ranges: readonly Range[], family: 'ipv4' | 'ipv6') {
  const byClass = new Map<Exclude<AddressClass, 'public'>, net.BlockList>();
  for (const [address, prefix, cls] of ranges) {
    let list = byClass.get(cls);
    if (!list) {
      list = new net.BlockList();
      byClass.set(cls, list);
    }
    list.addSubnet(address, prefix, family);
  }
  return [...byClass];
}

const V4_LISTS = blockList(IPV4, 'ipv4');
const V6_LISTS = blockList(IPV6, 'ipv6');

/** The 32-bit IPv4 address embedded at bit offset `at` (a multiple of 16) of an IPv6 address, dotted. */
function embeddedV4(groups: readonly number[], at: number): string {
  const hi = groups[at / 16] ?? 0;
  const lo = groups[at / 16 + 1] ?? 0;
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/** The eight 16-bit groups of an IPv6 literal (an embedded dotted quad allowed). */
function expandV6(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - h.length - t.length;
  return [...h, ...Array<string>(missing).fill('0'), ...t].map((g) => Number.parseInt(g, 16));
}

/**
 * Strips brackets and a zone and canonicalizes IPv4 forms the WHATWG URL parser accepts
 * (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1` are all 127.0.0.1). Names are lowercased.
 */
export function canonicalHost(host: string): string {
  const bare = host.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (net.isIP(bare) !== 0) return bare.toLowerCase();
  if (bare.includes(':')) return bare.toLowerCase();
  try {
    return new URL(`http://${bare}/`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return bare.toLowerCase();
  }
}

/**
 * Classifies an IP address (any form the URL parser accepts, IPv6 with or without brackets).
 * IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`) and 6to4 (`2002::/16`) addresses
 * are classified by the IPv4 address they carry. Anything that is not an IP address is `reserved`.
 */
export function classifyAddress(address: string): AddressClass {
  const ip = canonicalHost(address);
  const family = net.isIP(ip);
  if (family === 4) {
    for (const [cls, list] of V4_LISTS) if (list.check(ip, 'ipv4')) return cls;
    return 'public';
  }
  if (family !== 6) return 'reserved';
  const groups = expandV6(ip);
  const zeros = (n: number) => groups.slice(0, n).every((g) => g === 0);
  if (zeros(5) && groups[5] === 0xffff) return classifyAddress(embeddedV4(groups, 96));
  if (zeros(6) && !(groups[6] === 0 && (groups[7] ?? 0) <= 1)) return classifyAddress(embeddedV4(groups, 96));
  if (groups[0] === 0x2002) return classifyAddress(embeddedV4(groups, 16));
  for (const [cls, list] of V6_LISTS) if (list.check(ip, 'ipv6')) return cls;
  return 'public';
}

/** True when `address` is not a public unicast address (or not an IP address at all). */
export function isNonPublicAddress(address: string): boolean {
  return classifyAddress(address) !== 'public';
}

/** True for names that only mean something locally: `localhost`, `*.localhost`, single labels. */
export function isLocalName(hostname: string): boolean {
  const host = canonicalHost(hostname).replace(/\.$/, '');
  return host === 'localhost' || host.endsWith('.localhost') || !host.includes('.');
}

/** How a learned URL may be contacted. */
export interface EgressOptions {
  /** Contact loopback, private and link-local targets too (tests, private deployments). */
  readonly allowPrivateNetwork: boolean;
  /** Schemes allowed (default `https:` and `http:`; callers narrow it). */
  readonly schemes?: readonly string[];
  /** Names where the URL came from, for the message: "the token realm of 127.0.0.1:5000". */
  readonly what: string;
}

/** The error for a refused target: code EGRESS_REFUSED, details `{ url, reason }`. */
export function egressRefused(url: URL | string, reason: string, what: string): VouchError {
  const u = typeof url === 'string' ? url : `${url.protocol}//${url.host}`;
  return new VouchError('EGRESS_REFUSED', `${what} (${u}) ${reason}; refused (allowPrivateNetwork is off)`, {
    details: { url: u, reason },
  });
}

/**
 * Refuses a learned URL before any request: a scheme outside the allow-list always; unless
 * private networks are allowed, an IP literal that is not public or a local name. Names that
 * resolve to private addresses are caught at connect time by `egressAgent`.
 */
export function checkEgressUrl(url: URL, options: EgressOptions): void {
  const schemes = options.schemes ?? ['https:', 'http:'];
  if (!schemes.includes(url.protocol)) {
    throw new VouchError('EGRESS_REFUSED', `${options.what} uses scheme ${url.protocol}; refused`, {
      details: { url: `${url.protocol}//${url.host}`, reason: 'scheme' },
    });
  }
  if (options.allowPrivateNetwork) return;
  const host = canonicalHost(url.hostname);
  if (net.isIP(host) !== 0) {
    const cls = classifyAddress(host);
    if (cls !== 'public') throw egressRefused(url, `is a ${cls} address`, options.what);
    return;
  }
  if (isLocalName(host)) throw egressRefused(url, 'is a local name', options.what);
}

/** The errno code a refused connect-time lookup fails with (found in a fetch error's cause). */
export const EGRESS_LOOKUP_CODE = 'EVOUCHEGRESS';

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/** A `dns.lookup` that fails (code EVOUCHEGRESS) when any address of the name is not public. */
export function publicOnlyLookup(
  hostname: string,
  options: dns.LookupOptions,
  callback: LookupCallback,
): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const list = addresses as dns.LookupAddress[];
    const bad = list.find((a) => isNonPublicAddress(a.address));
    if (bad || list.length === 0) {
      const reason = bad ? `a ${classifyAddress(bad.address)} address (${bad.address})` : 'no address';
      const e: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${reason}`);
      e.code = EGRESS_LOOKUP_CODE;
      return callback(e, []);
    }
    if (options.all) return callback(null, list);
    const first = list[0] as dns.LookupAddress;
    callback(null, first.address, first.family);
  });
}

/** The refused-lookup error in `err`'s cause chain, if any. */
export function egressLookupError(err: unknown): Error | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if ((e as NodeJS.ErrnoException).code === EGRESS_LOOKUP_CODE) return e;
  }
  return undefined;
}

/**
 * An undici Agent whose connections go to public addresses only (checked at connect time, on the
 * address actually dialled). `tls` adds connect options such as extra CAs.
 */
export function egressAgent(options: {
  readonly connections?: number;
  readonly keepAliveTimeout?: number;
  readonly ca?: string | readonly string[];
}): Agent {
  return new Agent({
    connections: options.connections ?? 32,
    keepAliveTimeout: options.keepAliveTimeout ?? 10_000,
    connect: {
      lookup: publicOnlyLookup as never,
      ...(options.ca ? { ca: options.ca as string | string[] } : {}),
    },
  });
}
