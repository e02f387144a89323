/**
 * SSRF guard for URLs that come from the identity network (did:web hosts, PDS endpoints from DID
 * documents, handle well-known URLs), on the shared egress rules (src/net/egress.ts). Unless
 * `allowPrivateNetwork` is set, IP-literal hosts (public ones too: did:web and PDS endpoints name
 * hosts) and local names are refused before any request, and names that resolve to loopback,
 * private, link-local or otherwise non-public addresses are refused at connect time (so DNS answers
 * cannot smuggle a private address in).
 */
import net from 'node:net';
import { Agent } from 'undici';
import { canonicalHost, classifyAddress, egressAgent, isLocalName } from '../../../net/egress.js';
import { AtprotoFailure } from '../failure.js';

export { isNonPublicAddress } from '../../../net/egress.js';

/**
 * Refuses a URL whose host is an IP literal or a loopback name, unless private networks are
 * allowed. `what` names the URL's origin for the message ("the did:web host", "the PDS endpoint").
 */
export function checkUrlHost(url: URL, allowPrivateNetwork: boolean, what: string): void {
  if (allowPrivateNetwork) return;
  const host = canonicalHost(url.hostname);
  if (net.isIP(host) !== 0) {
    throw new AtprotoFailure(
      'forbidden-address',
      `${what} ${url.host} is an IP address (${classifyAddress(host)}); refused (allowPrivateNetwork is off)`,
    );
  }
  if (isLocalName(host)) {
    throw new AtprotoFailure(
      'forbidden-address',
      `${what} ${url.host} is a local name; refused (allowPrivateNetwork is off)`,
    );
  }
}

let publicAgent: Agent | undefined;
let anyAgent: Agent | undefined;

/** The undici dispatcher for identity-network requests (no redirects are followed by callers). */
export function identityAgent(allowPrivateNetwork: boolean): Agent {
  if (allowPrivateNetwork) {
    anyAgent ??= new Agent({ connections: 32, keepAliveTimeout: 10_000 });
    return anyAgent;
  }
  publicAgent ??= egressAgent({ connections: 32, keepAliveTimeout: 10_000 });
  return publicAgent;
}
