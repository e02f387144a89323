/**
 * HTTP for one RemoteRegistry: one pooled keep-alive undici Agent, a per-host concurrency limit,
 * auth challenges, retries with jittered backoff (429/502/503/504 and connection resets,
 * honoring Retry-After, bounded by the caller's AbortSignal), redirect rules, and an event per
 * exchange. Statuses the caller does not accept become specific VouchErrors.
 * Token realms and redirect targets on other hosts go through the egress rules (learned.ts).
 */
import { Agent } from 'undici';
import { KeyedLimiter } from '../../concurrency.js';
import { VouchError } from '../../errors.js';
import { type Logger, silentLogger } from '../../observability/logger.js';
import { VERSION } from '../../version.js';
import { normalizeHost } from '../auth/static.js';
import { Authenticator } from './authenticator.js';
import { discard, header } from './body.js';
import { parseChallenge } from './challenge.js';
import { dispatchRequest } from './dispatch.js';
import { abortError, describeErrorBody, isConnectionReset, statusError, unreachable } from './errors.js';
import { LearnedTargets } from './learned.js';
import type { RegistryRequestEvent, RemoteRegistryOptions } from './options.js';
import { currentRegistryPriority } from './priority.js';
import type { ResponseBody } from './response-body.js';
import { backoff, loadCAs, parseRetryAfter, sleep } from './retry.js';

type Headers = Record<string, string | string[] | undefined>;

export interface TransportRequest {
  /** Registry host as in the reference (`host[:port]`). */
  readonly host: string;
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** `/v2/…` with query, or an absolute URL on the same registry (upload locations). */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  /** Token scopes this request needs. */
  readonly scopes: readonly string[];
  readonly signal: AbortSignal;
  /** `blob`: follow redirects to other hosts without Authorization; `same-host`: refuse those. */
  readonly redirects?: 'blob' | 'same-host';
  /** Non-2xx statuses handed to the caller instead of thrown. */
  readonly accept?: readonly number[];
  /** What is requested, for messages: `manifest "v1" of host/repo`. */
  readonly what: string;
}

export interface TransportResponse {
  readonly status: number;
  readonly headers: Headers;
  /** Collected as it arrives; read it whole under a limit (body.ts readLimited) or discard it. */
  readonly body: ResponseBody;
  readonly url: URL;
}

const RETRYABLE = new Set([429, 502, 503, 504]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

export class Transport {
  readonly agent: Agent;
  /** Realms and redirect targets on other hosts: public addresses only unless allowed. */
  readonly #learned: LearnedTargets;
  readonly logger: Logger;
  readonly #insecure: ReadonlySet<string>;
  /** Requests in flight per host; waiters served by priority (priority.ts), then arrival. */
  readonly #limiter: KeyedLimiter;
  readonly #auth: Authenticator;
  readonly #maxRetries: number;
  readonly #maxRetryAfterMs: number;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  readonly #onRequest: ((e: RegistryRequestEvent) => void) | undefined;

  constructor(options: RemoteRegistryOptions) {
    const concurrency = options.perHostConcurrency ?? 64;
    this.#insecure = new Set((options.insecureHosts ?? []).map((h) => normalizeHost(h)));
    this.#limiter = new KeyedLimiter(concurrency);
    this.#maxRetries = options.maxRetries ?? 3;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 10_000;
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#userAgent = options.userAgent ?? `vouch/${VERSION}`;
    this.#onRequest = options.onRequest;
    this.logger = options.logger ?? silentLogger;
    const ca = loadCAs(options.caFiles ?? []);
    this.#learned = new LearnedTargets({
      allowPrivateNetwork: options.allowPrivateNetwork ?? false,
      isInsecure: (h) => this.isInsecure(h),
      origin: (h) => this.origin(h),
      ca,
    });
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      connections: concurrency,
      ...(ca ? { connect: { ca } } : {}),
    });
    this.#auth = new Authenticator(
      options.credentials,
      (r) => this.#tokenRequest(r),
      (realm, host) => this.#checkRealm(realm, host),
    );
  }

  /** Refuses a token realm over plain HTTP (unless configured insecure) or on a forbidden target. */
  #checkRealm(realm: URL, host: string): void {
    if (realm.protocol !== 'https:' && !this.isInsecure(host) && !this.isInsecure(realm.host)) {
      throw new VouchError(
        'REGISTRY_AUTH_FAILED',
        `${host} sent a token realm over plain HTTP (${realm.host}); mark it insecure to allow that`,
      );
    }
    this.#learned.check(realm, host, `the token realm ${host} names`);
  }

  /** True when `host` was marked insecure (plain HTTP). */
  isInsecure(host: string): boolean {
    return this.#insecure.has(normalizeHost(host));
  }

  /** `scheme://endpoint` for a registry host (Docker Hub's API lives at registry-1.docker.io). */
  origin(host: string): string {
    const endpoint = normalizeHost(host) === 'docker.io' ? 'registry-1.docker.io' : host;
    return `${this.isInsecure(host) ? 'http' : 'https'}://${endpoint}`;
  }

  /**
   * The caller's signal combined with the default per-operation deadline. The combination is made
   * once per caller signal and time slice: an image's verification passes one signal to its dozen
   * registry operations, and each `AbortSignal.any` is a new signal with weak references V8 must
   * trace and finalize.
   */
  deadline(signal: AbortSignal | undefined): AbortSignal {
    const timeout = this.#sharedTimeout();
    if (!signal) return timeout;
    const known = this.#combined.get(signal);
    if (known?.timeout === timeout) return known.combined;
    const combined = AbortSignal.any([signal, timeout]);
    this.#combined.set(signal, { timeout, combined });
    return combined;
  }

  /** Per caller signal, its combination with the current timeout slice (kept only while the caller's signal lives). */
  readonly #combined = new WeakMap<AbortSignal, { timeout: AbortSignal; combined: AbortSignal }>();

  /**
   * The request timeout as a signal shared by every operation that starts within one slice of
   * time (a tenth of the timeout, at most a second), so the cap is between 1 and 1.1 times
   * `requestTimeoutMs`. One timer per slice instead of one per operation: at thousands of registry
   * operations a second, per-operation timers each kept alive for the whole timeout held tens of
   * MiB (docs/performance.md, memory).
   */
  #sharedTimeout(): AbortSignal {
    const now = Date.now();
    const current = this.#timeoutSlice;
    if (current && now < current.until && !current.signal.aborted) return current.signal;
    const slice = Math.max(1, Math.min(1000, Math.floor(this.#timeoutMs / 10)));
    const signal = AbortSignal.timeout(this.#timeoutMs + slice);
    this.#timeoutSlice = { until: now + slice, signal };
    return signal;
  }

  #timeoutSlice: { until: number; signal: AbortSignal } | undefined;

  /** Sends `req` (retrying and authenticating as needed) and lets `consume` read the response. */
  request<T>(req: TransportRequest, consume: (res: TransportResponse) => Promise<T>): Promise<T> {
    req.signal.throwIfAborted();
    return this.#limiter
      .run(req.host, req.signal, () => this.#send(req, consume), currentRegistryPriority())
      .catch((err: unknown) => {
        if (req.signal.aborted && !(err instanceof VouchError))
          throw abortError(req.signal, `requesting ${req.what}`);
        throw err;
      });
  }

  async #send<T>(req: TransportRequest, consume: (res: TransportResponse) => Promise<T>): Promise<T> {
    const url = this.#url(req);
    let authorization = await this.#auth.authorization(req.host, req.scopes, req.signal);
    let answered = false;
    for (let attempt = 1; ; attempt++) {
      let res: TransportResponse;
      try {
        res = await this.#exchange(url, req, authorization, attempt, 'registry');
      } catch (err) {
        if (req.signal.aborted) throw abortError(req.signal, `requesting ${req.what} from ${req.host}`);
        if (isConnectionReset(err) && attempt <= this.#maxRetries) {
          await sleep(backoff(attempt), req.signal, req.what);
          continue;
        }
        throw unreachable(req.host, req.what, err);
      }
      if (res.status === 401 && !answered) {
        const challenge = parseChallenge(header(res.headers, 'www-authenticate'));
        if (challenge) {
          await discard(res.body);
          authorization = await this.#auth.answer(req.host, challenge, req.scopes, authorization, req.signal);
          answered = true;
          attempt--;
          continue;
        }
      }
      if (RETRYABLE.has(res.status) && attempt <= this.#maxRetries) {
        await discard(res.body);
        const delay = this.#retryDelay(res, attempt, req);
        this.logger.debug({ host: req.host, status: res.status, delayMs: delay, attempt }, 'registry retry');
        await sleep(delay, req.signal, req.what);
        continue;
      }
      if (REDIRECTS.has(res.status)) res = await this.#redirect(res, req, authorization);
      if ((res.status >= 200 && res.status < 300) || req.accept?.includes(res.status)) {
        try {
          return await consume(res);
        } finally {
          await discard(res.body);
        }
      }
      const description = await describeErrorBody(res.body, header(res.headers, 'content-type'));
      const err = statusError(res.status, req.what, req.host, description);
      if (RETRYABLE.has(res.status) && attempt > 1) {
        throw new VouchError(err.code, `${err.message}; gave up after ${attempt - 1} retries`, {
          details: err.details,
        });
      }
      throw err;
    }
  }

  #url(req: TransportRequest): URL {
    const origin = this.origin(req.host);
    if (!/^https?:\/\//i.test(req.path)) return new URL(req.path, origin);
    const url = new URL(req.path);
    if (url.origin !== new URL(origin).origin) {
      throw new VouchError(
        'REGISTRY_REDIRECT_REFUSED',
        `${req.host} sent a location on another host (${url.host}) for ${req.what}`,
      );
    }
    return url;
  }

  async #exchange(
    url: URL,
    req: Pick<TransportRequest, 'method' | 'headers' | 'body' | 'signal'>,
    authorization: string | undefined,
    attempt: number,
    kind: RegistryRequestEvent['kind'],
    dispatcher: Agent = this.agent,
  ): Promise<TransportResponse> {
    const headers: Record<string, string> = { 'user-agent': this.#userAgent, ...req.headers };
    if (authorization) headers.authorization = authorization;
    const started = performance.now();
    const event = (status: number | 'error') =>
      this.#onRequest?.({
        host: url.host,
        method: req.method,
        path: url.pathname + url.search,
        status,
        durationMs: performance.now() - started,
        attempt,
        kind,
      });
    try {
      const res = await dispatchRequest(dispatcher, url, {
        method: req.method,
        headers,
        body:
          req.body === undefined
            ? null
            : Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength),
        signal: req.signal,
        // undici closes a connection after every HEAD unless told not to (undici#258, for servers
        // that send a body with HEAD); registries answer HEAD properly, and closing would cost every
        // resolve a new connection (a cold batch of 100 images opened 100)
        ...(req.method === 'HEAD' ? { reset: false } : {}),
      });
      event(res.status);
      return { status: res.status, headers: res.headers, body: res.body, url };
    } catch (err) {
      event('error');
      throw err;
    }
  }

  #retryDelay(res: TransportResponse, attempt: number, req: TransportRequest): number {
    const retryAfter = parseRetryAfter(header(res.headers, 'retry-after'));
    if (retryAfter === undefined) return backoff(attempt);
    if (retryAfter > this.#maxRetryAfterMs) {
      throw new VouchError(
        res.status === 429 ? 'REGISTRY_RATE_LIMITED' : 'REGISTRY_ERROR',
        `${req.host} answered HTTP ${res.status} for ${req.what} and asks to retry after ${Math.ceil(retryAfter / 1000)} s, longer than the ${this.#maxRetryAfterMs / 1000} s vouch waits`,
        { details: { host: req.host, status: res.status, retryAfterMs: retryAfter } },
      );
    }
    return retryAfter + Math.random() * 50;
  }

  async #redirect(
    first: TransportResponse,
    req: TransportRequest,
    authorization: string | undefined,
  ): Promise<TransportResponse> {
    let res = first;
    const originHost = res.url.host;
    for (let hop = 1; REDIRECTS.has(res.status); hop++) {
      const location = header(res.headers, 'location');
      await discard(res.body);
      if (!location)
        throw new VouchError('REGISTRY_ERROR', `${req.host} redirected ${req.what} without a Location`);
      if (hop > MAX_REDIRECTS)
        throw new VouchError(
          'REGISTRY_REDIRECT_REFUSED',
          `${req.host} redirected ${req.what} more than ${MAX_REDIRECTS} times`,
        );
      const target = new URL(location, res.url);
      const sameHost = target.host === originHost;
      if (!sameHost && req.redirects !== 'blob') {
        throw new VouchError(
          'REGISTRY_REDIRECT_REFUSED',
          `${req.host} redirected ${req.what} to another host (${target.host}); only blob downloads may be redirected across hosts`,
          { details: { host: req.host, target: target.host } },
        );
      }
      if (
        target.protocol !== 'https:' &&
        !(target.protocol === 'http:' && (res.url.protocol === 'http:' || this.isInsecure(target.host)))
      ) {
        throw new VouchError(
          'REGISTRY_REDIRECT_REFUSED',
          `${req.host} redirected ${req.what} to ${target.protocol}//${target.host}, a downgrade vouch refuses`,
        );
      }
      // the target came from the registry's answer: a storage host is fine, an internal address is not
      const redirected = `${req.host} redirected ${req.what} to a target that`;
      this.#learned.check(target, req.host, redirected);
      // registries redirect blobs to storage; the registry's credentials must not follow
      const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
      const headers = { ...req.headers };
      try {
        res = await this.#exchange(
          target,
          { method, headers, signal: req.signal },
          sameHost ? authorization : undefined,
          1,
          'redirect',
          this.#learned.dispatcher(target, req.host, this.agent),
        );
      } catch (err) {
        if (req.signal.aborted) throw abortError(req.signal, `following a redirect for ${req.what}`);
        throw (
          this.#learned.refusedAtConnect(err, target, redirected) ?? unreachable(target.host, req.what, err)
        );
      }
    }
    return res;
  }

  async #tokenRequest(
    r: Parameters<ConstructorParameters<typeof Authenticator>[1]>[0],
  ): Promise<TransportResponse> {
    const body = r.body === undefined ? undefined : new TextEncoder().encode(r.body);
    try {
      return await this.#exchange(
        r.url,
        { method: r.method, headers: r.headers, ...(body ? { body } : {}), signal: r.signal },
        undefined,
        1,
        'token',
        this.#learned.dispatcher(r.url, r.host, this.agent),
      );
    } catch (err) {
      if (r.signal.aborted) throw abortError(r.signal, `fetching a token from ${r.url.host}`);
      throw (
        this.#learned.refusedAtConnect(err, r.url, `the token realm ${r.host} names`) ??
        unreachable(r.url.host, 'a registry token', err)
      );
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.agent.close(), this.#learned.close()]);
  }
}
