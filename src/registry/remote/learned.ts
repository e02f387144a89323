/**
 * Egress for URLs a registry's answers name (docs/security.md, egress table): a token realm from a
 * `WWW-Authenticate` challenge, a `Location` a blob download is redirected to. The registry host
 * the caller names is trusted input, and so are the hosts the operator configured (`insecureHosts`);
 * a target on any other host name was learned, so it goes through the shared egress rules
 * (src/net/egress.ts): no loopback, private or link-local targets unless `allowPrivateNetwork`,
 * checked on the URL before the request and on the resolved address at connect time.
 */
import type { Agent } from 'undici';
import { VouchError } from '../../errors.js';
import { canonicalHost, checkEgressUrl, egressAgent, egressLookupError } from '../../net/egress.js';

export interface LearnedTargetOptions {
  readonly allowPrivateNetwork: boolean;
  /** True for a configured insecure host (`host[:port]`). */
  readonly isInsecure: (host: string) => boolean;
  /** `scheme://endpoint` of a registry host (Docker Hub's API lives at registry-1.docker.io). */
  readonly origin: (host: string) => string;
  /** Extra CAs, as for the registry itself. */
  readonly ca: readonly string[] | undefined;
}

export class LearnedTargets {
  readonly #options: LearnedTargetOptions;
  #agent: Agent | undefined;

  constructor(options: LearnedTargetOptions) {
    this.#options = options;
  }

  /**
   * True when `target` was learned from `host`'s answers rather than chosen by the operator: its
   * host name differs from the registry endpoint's and it is not a configured insecure host. With
   * `allowPrivateNetwork` nothing is treated as learned (targets are followed as before).
   */
  isLearned(target: URL, host: string): boolean {
    if (this.#options.allowPrivateNetwork) return false;
    const registry = new URL(this.#options.origin(host));
    if (canonicalHost(target.hostname) === canonicalHost(registry.hostname)) return false;
    return !this.#options.isInsecure(target.host);
  }

  /** Throws EGRESS_REFUSED when a learned `target` names a non-public address or a local name. */
  check(target: URL, host: string, what: string): void {
    if (!this.isLearned(target, host)) return;
    checkEgressUrl(target, { allowPrivateNetwork: false, schemes: ['https:', 'http:'], what });
  }

  /** The dispatcher for `target`: the registry's own, or the public-only one for learned targets. */
  dispatcher(target: URL, host: string, registryAgent: Agent): Agent {
    if (!this.isLearned(target, host)) return registryAgent;
    this.#agent ??= egressAgent({
      connections: 16,
      keepAliveTimeout: 30_000,
      ...(this.#options.ca ? { ca: this.#options.ca } : {}),
    });
    return this.#agent;
  }

  /** EGRESS_REFUSED when the connect-time lookup refused `target`, else undefined. */
  refusedAtConnect(err: unknown, target: URL, what: string): VouchError | undefined {
    const refused = egressLookupError(err);
    if (!refused) return undefined;
    return new VouchError(
      'EGRESS_REFUSED',
      `${what} (${target.host}): ${refused.message}; refused (allowPrivateNetwork is off)`,
      { cause: err, details: { url: `${target.protocol}//${target.host}`, reason: 'resolved address' } },
    );
  }

  async close(): Promise<void> {
    await this.#agent?.close();
  }
}
