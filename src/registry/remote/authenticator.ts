/**
 * Registry authentication state for one RemoteRegistry: what each host asked for (basic or
 * bearer), credentials looked up once per host, and bearer tokens cached per (host, service,
 * scopes) until they expire, with one token fetch shared by concurrent requests
 * (distribution `docs/spec/auth/token.md`, `oauth.md`). Credentials and tokens are never logged
 * and never put into error messages.
 */

import { VouchError } from '../../errors.js';
import type { Credential, CredentialStore } from '../auth/types.js';
import { isIdentityToken } from '../auth/types.js';
import { contentLength, header, readLimited } from './body.js';
import { type Challenge, mergeScopes } from './challenge.js';
import { describeErrorBody, printable } from './errors.js';
import type { ResponseBody } from './response-body.js';

const MAX_TOKEN_RESPONSE = 1024 * 1024;
/** Token lifetime assumed when the response omits `expires_in` (token spec: 60 s). */
const DEFAULT_TOKEN_SECONDS = 60;

/** How the authenticator reaches a token endpoint (provided by the transport). */
export type TokenHttp = (request: {
  /** The registry the token is for (the realm came from its challenge). */
  host: string;
  url: URL;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}) => Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: ResponseBody }>;

type HostAuth = { scheme: 'basic' } | { scheme: 'bearer'; realm: URL; service: string | undefined };

export class Authenticator {
  readonly #credentials: CredentialStore | undefined;
  readonly #http: TokenHttp;
  readonly #checkRealm: (realm: URL, host: string) => void;
  readonly #hosts = new Map<string, HostAuth>();
  readonly #creds = new Map<string, Promise<Credential | undefined>>();
  readonly #tokens = new Map<string, { token: string; expiresAt: number }>();
  readonly #inflight = new Map<string, Promise<string>>();

  constructor(
    credentials: CredentialStore | undefined,
    http: TokenHttp,
    /** Throws (REGISTRY_AUTH_FAILED, EGRESS_REFUSED) when `host`'s realm must not be contacted. */
    checkRealm: (realm: URL, host: string) => void,
  ) {
    this.#credentials = credentials;
    this.#http = http;
    this.#checkRealm = checkRealm;
  }

  /**
   * The Authorization header to send up front, when an earlier challenge told us how this host
   * authenticates (saves the 401 round trip); undefined for anonymous-so-far hosts.
   */
  async authorization(
    host: string,
    scopes: readonly string[],
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const state = this.#hosts.get(host);
    if (!state) return undefined;
    if (state.scheme === 'basic') return this.#basicHeader(host);
    return `Bearer ${await this.#token(host, state, mergeScopes(scopes), signal)}`;
  }

  /**
   * Handles a 401 challenge: records the scheme and returns a fresh Authorization header.
   * `sent` is the header the refused request carried; a cached token equal to it is dropped,
   * while a newer one (fetched meanwhile by a concurrent request) is reused.
   */
  async answer(
    host: string,
    challenge: Challenge,
    scopes: readonly string[],
    sent: string | undefined,
    signal: AbortSignal,
  ): Promise<string> {
    if (challenge.scheme === 'basic') {
      this.#hosts.set(host, { scheme: 'basic' });
      const h = await this.#basicHeader(host);
      if (!h) throw noCredentials(host);
      return h;
    }
    const realmText = challenge.params.realm;
    if (!realmText)
      throw new VouchError('REGISTRY_AUTH_FAILED', `${host} sent a Bearer challenge without a realm`);
    let realm: URL;
    try {
      realm = new URL(realmText);
    } catch {
      throw new VouchError(
        'REGISTRY_AUTH_FAILED',
        `${host} sent a Bearer challenge with an invalid realm URL`,
      );
    }
    this.#checkRealm(realm, host);
    const state: HostAuth = { scheme: 'bearer', realm, service: challenge.params.service };
    this.#hosts.set(host, state);
    const all = mergeScopes([...scopes, ...(challenge.params.scope ? [challenge.params.scope] : [])]);
    const wantedKey = this.#key(host, state, mergeScopes(scopes));
    const allKey = this.#key(host, state, all);
    for (const key of [wantedKey, allKey]) {
      if (sent !== undefined && `Bearer ${this.#tokens.get(key)?.token}` === sent) this.#tokens.delete(key);
    }
    const token = await this.#token(host, state, all, signal);
    const entry = this.#tokens.get(allKey);
    if (entry && wantedKey !== allKey) this.#tokens.set(wantedKey, entry);
    return `Bearer ${token}`;
  }

  #key(host: string, state: Extract<HostAuth, { scheme: 'bearer' }>, scopes: readonly string[]): string {
    return `${host}\n${state.realm.href}\n${state.service ?? ''}\n${scopes.join(' ')}`;
  }

  #credential(host: string): Promise<Credential | undefined> {
    let p = this.#creds.get(host);
    if (!p) {
      p = this.#credentials ? this.#credentials.get(host) : Promise.resolve(undefined);
      this.#creds.set(host, p);
      p.catch(() => this.#creds.delete(host));
    }
    return p;
  }

  async #basicHeader(host: string): Promise<string | undefined> {
    const c = await this.#credential(host);
    if (!c) return undefined;
    if (isIdentityToken(c)) {
      throw new VouchError(
        'REGISTRY_AUTH_FAILED',
        `${host} asks for basic auth, but its credential is an identity token`,
      );
    }
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  async #token(
    host: string,
    state: Extract<HostAuth, { scheme: 'bearer' }>,
    scopes: readonly string[],
    signal: AbortSignal,
  ): Promise<string> {
    const key = this.#key(host, state, scopes);
    const cached = this.#tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.token;
    let flight = this.#inflight.get(key);
    if (!flight) {
      flight = this.#fetchToken(host, state, scopes, signal).then(({ token, expiresAt }) => {
        this.#tokens.set(key, { token, expiresAt });
        return token;
      });
      this.#inflight.set(key, flight);
      const clear = () => this.#inflight.delete(key);
      flight.then(clear, clear);
    }
    return flight;
  }

  async #fetchToken(
    host: string,
    state: Extract<HostAuth, { scheme: 'bearer' }>,
    scopes: readonly string[],
    signal: AbortSignal,
  ): Promise<{ token: string; expiresAt: number }> {
    const credential = await this.#credential(host);
    const url = new URL(state.realm);
    const headers: Record<string, string> = { accept: 'application/json' };
    let method: 'GET' | 'POST' = 'GET';
    let body: string | undefined;
    if (credential && isIdentityToken(credential)) {
      // OAuth2 refresh-token grant (distribution docs/spec/auth/oauth.md)
      method = 'POST';
      headers['content-type'] = 'application/x-www-form-urlencoded';
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: credential.identityToken,
        client_id: 'vouch',
      });
      if (state.service) form.set('service', state.service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      body = form.toString();
    } else {
      if (state.service) url.searchParams.set('service', state.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (credential)
        headers.authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
    }
    const res = await this.#http({
      host,
      url,
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal,
    });
    if (res.status !== 200) {
      const description = await describeErrorBody(res.body, header(res.headers, 'content-type'));
      if (res.status === 401 || res.status === 403) {
        throw new VouchError(
          'REGISTRY_AUTH_FAILED',
          credential
            ? `the token service ${url.host} rejected the credentials for ${host} (HTTP ${res.status}: ${description})`
            : `${host} requires authentication and no credentials are configured for it (token service HTTP ${res.status})`,
          { details: { host, status: res.status } },
        );
      }
      throw new VouchError(
        'REGISTRY_AUTH_FAILED',
        `the token service ${url.host} for ${host} answered HTTP ${res.status}: ${description}`,
        {
          details: { host, status: res.status },
        },
      );
    }
    const bytes = await readLimited(
      res.body,
      MAX_TOKEN_RESPONSE,
      `token response from ${url.host}`,
      contentLength(res.headers),
      signal,
    );
    let json: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      json = JSON.parse(Buffer.from(bytes).toString('utf8')) as typeof json;
    } catch {
      throw new VouchError(
        'REGISTRY_AUTH_FAILED',
        `the token service ${url.host} answered with non-JSON (${printable(Buffer.from(bytes).subarray(0, 80).toString('utf8'), 80)})`,
      );
    }
    const token = typeof json.token === 'string' && json.token ? json.token : json.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new VouchError('REGISTRY_AUTH_FAILED', `the token service ${url.host} answered without a token`);
    }
    const seconds =
      typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : DEFAULT_TOKEN_SECONDS;
    const issued = typeof json.issued_at === 'string' ? Date.parse(json.issued_at) : Number.NaN;
    const start = Number.isFinite(issued) && Math.abs(issued - Date.now()) < 300_000 ? issued : Date.now();
    const skew = Math.min(10_000, seconds * 100); // renew 10% (at most 10 s) early
    return { token, expiresAt: start + seconds * 1000 - skew };
  }
}

function noCredentials(host: string): VouchError {
  return new VouchError(
    'REGISTRY_AUTH_FAILED',
    `${host} requires authentication and no credentials are configured for it`,
    {
      details: { host },
    },
  );
}
