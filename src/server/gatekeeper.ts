/**
 * Gatekeeper external data provider (protocols README §1): `POST /gatekeeper/v1/verify|mutate`,
 * also on Ratify's paths for drop-in use (§1.9.7): Ratify v1's `/ratify/gatekeeper/v1/verify|mutate`
 * and Ratify v2's `/ratify/gatekeeper/v2/verify|mutate` (ratify main internal/httpserver/server.go
 * `serverRootURL`). Every path answers the same value (values.ts), which carries both Ratify
 * versions' verdicts (`isSuccess`, `succeeded`).
 *
 * - Exactly one item per request key, in request order, the key echoed byte for byte (duplicates
 *   too, §1.3); each item has a `value` or a non-empty `error`, never neither (§1.9.1).
 * - A negative verdict is a value (`isSuccess:false`); a per-key `error` is for an image that could
 *   not be decided. Gatekeeper caches items, errors included, for minutes (§1.8), so when any key
 *   failed for a transient reason (timeout, unreachable or throttling registry), or was denied on an
 *   inconclusive report (an identity or revocation service down or slow), `systemError` is set
 *   too: Gatekeeper never caches a system error, and its templates deny on it.
 * - `idempotent: true` (mandatory for mutation, §1.6; harmless on verify).
 * - Keys may carry Ratify's `[namespace]` prefix (§2.2); it is stripped before deciding.
 * - No keys (`"request":{}`, how Gatekeeper sends an empty list) is answered with no items.
 * - HTTP 200 with a ProviderResponse body for every answer, errors included (§1.9.5).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Decision, Report } from '../engine/types.js';
import type { ServerMetrics } from '../observability/metrics.js';
import { startBudget } from './budget.js';
import type { DecisionService, KeyError, KeyResult, PinResult } from './decisions.js';
import { gatekeeperValueParts } from './values.js';

const providerRequestSchema = z.object({
  apiVersion: z
    .string()
    .regex(/^externaldata\.gatekeeper\.sh\/v1(alpha1|beta1)$/, 'not externaldata.gatekeeper.sh/v1beta1'),
  kind: z.literal('ProviderRequest'),
  // Gatekeeper marshals an empty key list as `"request":{}` (FW externaldata/request.go: `Keys` is
  // `omitempty`), e.g. Ratify's template on a Deployment: a missing `keys` is no keys, not an error.
  request: z.object({ keys: z.array(z.string()).default([]) }),
});

export interface ProviderItem {
  key: string;
  value?: unknown;
  error?: string;
}

export interface ProviderResponse {
  apiVersion: 'externaldata.gatekeeper.sh/v1beta1';
  kind: 'ProviderResponse';
  response: { idempotent: boolean; items: ProviderItem[]; systemError?: string };
}

/** A ProviderResponse that fails the whole call (never cached by Gatekeeper). */
export function systemErrorResponse(message: string): ProviderResponse {
  return {
    apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
    kind: 'ProviderResponse',
    response: { idempotent: true, items: [], systemError: message },
  };
}

/** Splits Ratify's `[namespace]image` key (regex `(\[(.*?)\])?(.*)`, R1 utils.go). */
export function splitKey(key: string): { namespace?: string; image: string } {
  const m = /^\[(.*?)\](.*)$/s.exec(key);
  return m ? { namespace: m[1] ?? '', image: m[2] ?? '' } : { image: key };
}

export interface GatekeeperRouteOptions {
  readonly decisions: DecisionService;
  readonly metrics: ServerMetrics;
  readonly validateMs: number;
  readonly mutateMs: number;
  readonly maxKeys: number;
}

type Mode = 'verify' | 'mutate';

/**
 * The keys of a well-formed ProviderRequest, checked by hand (the warm path answers thousands of
 * requests a second); undefined for anything else, which zod then explains.
 */
function wellFormedKeys(body: unknown): string[] | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (b.kind !== 'ProviderRequest') return undefined;
  if (
    b.apiVersion !== 'externaldata.gatekeeper.sh/v1beta1' &&
    b.apiVersion !== 'externaldata.gatekeeper.sh/v1alpha1'
  )
    return undefined;
  const request = b.request;
  if (typeof request !== 'object' || request === null) return undefined;
  const keys = (request as Record<string, unknown>).keys;
  if (keys === undefined) return []; // `"request":{}`: Gatekeeper's empty key list (omitempty)
  if (!Array.isArray(keys)) return undefined;
  for (const key of keys) if (typeof key !== 'string') return undefined;
  return keys as string[];
}

/** Parses a ProviderRequest body, or answers with a systemError and returns undefined. */
function parseRequest(
  body: unknown,
  reply: FastifyReply,
  opts: GatekeeperRouteOptions,
): string[] | undefined {
  let keys = wellFormedKeys(body);
  if (!keys) {
    const parsed = providerRequestSchema.safeParse(body);
    if (!parsed.success) {
      opts.metrics.rejected('malformed');
      const issue = parsed.error.issues[0];
      const where = issue?.path.join('.') || 'body';
      void reply
        .code(400)
        .send(systemErrorResponse(`not a ProviderRequest: ${where}: ${issue?.message ?? 'invalid'}`));
      return undefined;
    }
    keys = parsed.data.request.keys;
  }
  if (keys.length > opts.maxKeys) {
    opts.metrics.rejected('too-many-keys');
    void reply
      .code(413)
      .send(systemErrorResponse(`too many keys: ${keys.length} (at most ${opts.maxKeys} per request)`));
    return undefined;
  }
  return keys;
}

/**
 * One answered image, serialised: the item's UTF-8 JSON after its key (`,"value":…}` or
 * `,"error":…}`) as buffers, so duplicate keys share it and the response is written as views.
 */
interface Answer {
  readonly rest: readonly Buffer[];
  readonly transient: boolean;
}

const RESPONSE_HEAD = Buffer.from(
  '{"apiVersion":"externaldata.gatekeeper.sh/v1beta1","kind":"ProviderResponse","response":{"idempotent":true,"items":[',
);
const FIRST_KEY = Buffer.from('{"key":');
const NEXT_KEY = Buffer.from(',{"key":');
const VALUE = Buffer.from(',"value":');
const ITEM_END = Buffer.from('}');
const ITEMS_END = Buffer.from(']');
const RESPONSE_END = Buffer.from('}}');

const hasInconclusive = (reports: readonly Report[]): boolean =>
  reports.some((r) => r.outcome === 'inconclusive' || hasInconclusive(r.nested));

/**
 * A denial that rests on an inconclusive report (a PDS, PLC directory, OCSP responder or registry
 * that was down or too slow) is as transient as a per-key timeout: Gatekeeper would cache the
 * `isSuccess:false` value for its whole TTL (§1.8) and keep denying after the service is back, so
 * it is answered with `systemError` too. vouch itself never caches it (decisions.ts).
 */
const transientDenial = (d: Decision): boolean =>
  !d.allowed && (hasInconclusive(d.reports) || (d.platforms ?? []).some((p) => hasInconclusive(p.reports)));

const errorAnswer = (r: KeyError): Answer => ({
  rest: [Buffer.from(`,"error":${JSON.stringify(r.message)}}`)],
  transient: r.transient,
});

/**
 * Answers 200 with a JSON body given as buffers, without joining them: the views of cached values
 * go to the socket as they are, corked into one write, and no response-sized buffer is left for
 * the garbage collector (at 50,000 images a second that garbage was most of the server's RSS).
 * Hijacking skips onSend (unused here); onResponse hooks still run when the response finishes.
 */
function sendJsonChunks(reply: FastifyReply, chunks: readonly Buffer[]): FastifyReply {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': length });
  res.cork();
  for (const chunk of chunks) res.write(chunk);
  res.uncork();
  res.end();
  return reply;
}

/** The image of a key: Ratify's `[namespace]` prefix stripped. */
const imageOf = (key: string): string => (key.charCodeAt(0) === 91 /* [ */ ? splitKey(key).image : key);

/** Registers the Gatekeeper routes. */
export function registerGatekeeperRoutes(app: FastifyInstance, opts: GatekeeperRouteOptions): void {
  const handle = (mode: Mode) => async (request: { body: unknown; id: string }, reply: FastifyReply) => {
    const started = performance.now();
    const keys = parseRequest(request.body, reply, opts);
    if (!keys) return reply;
    const traceId = Buffer.from(JSON.stringify(request.id));
    const valueAnswer = (result: KeyResult): Answer => {
      if (result.kind === 'error') return errorAnswer(result);
      const [before, after] = gatekeeperValueParts(result.decision);
      return { rest: [VALUE, before, traceId, after, ITEM_END], transient: transientDenial(result.decision) };
    };
    const pinAnswer = (pinned: PinResult): Answer =>
      pinned.kind === 'pinned'
        ? { rest: [Buffer.from(`,"value":${JSON.stringify(pinned.reference)}}`)], transient: false }
        : errorAnswer(pinned);

    // one answer per distinct image; the warm path answers from the in-process cache, synchronously
    const answers = new Map<string, Answer>();
    const missing = new Set<string>();
    for (const key of keys) {
      const image = imageOf(key);
      if (answers.has(image) || missing.has(image)) continue;
      const hit = mode === 'verify' ? opts.decisions.peek(image) : opts.decisions.peekPin(image);
      if (hit === undefined) missing.add(image);
      else answers.set(image, hit.kind === 'pinned' ? pinAnswer(hit) : valueAnswer(hit));
    }
    if (missing.size > 0) {
      const elapsed = performance.now() - started;
      const budget = startBudget(
        Math.max(1, (mode === 'verify' ? opts.validateMs : opts.mutateMs) - elapsed),
      );
      try {
        await Promise.all(
          [...missing].map(async (image) => {
            answers.set(
              image,
              mode === 'verify'
                ? valueAnswer(await opts.decisions.decide(image, budget.signal))
                : pinAnswer(await opts.decisions.pin(image, budget.signal)),
            );
          }),
        );
        if (budget.signal.aborted) opts.metrics.deadlineExpired(mode);
      } finally {
        budget.dispose();
      }
    }

    let transient = 0;
    for (const answer of answers.values()) if (answer.transient) transient++;
    const chunks: Buffer[] = [RESPONSE_HEAD];
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      chunks.push(i === 0 ? FIRST_KEY : NEXT_KEY, Buffer.from(JSON.stringify(key)));
      for (const part of (answers.get(imageOf(key)) as Answer).rest) chunks.push(part);
    }
    chunks.push(ITEMS_END);
    if (transient > 0) {
      const systemError = `${transient} of ${answers.size} images could not be decided (timeout, or a registry or another service unavailable); see the items' errors and values`;
      chunks.push(Buffer.from(`,"systemError":${JSON.stringify(systemError)}`));
    }
    chunks.push(RESPONSE_END);
    opts.metrics.request(
      `gatekeeper-${mode}`,
      transient > 0 ? 'failure' : 'success',
      (performance.now() - started) / 1000,
    );
    return sendJsonChunks(reply, chunks);
  };
  for (const prefix of ['/gatekeeper/v1', '/ratify/gatekeeper/v1', '/ratify/gatekeeper/v2']) {
    app.post(`${prefix}/verify`, handle('verify'));
    app.post(`${prefix}/mutate`, handle('mutate'));
  }
}
