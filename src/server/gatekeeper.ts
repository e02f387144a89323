/**
 * Gatekeeper external data provider (protocols README §1): `POST /gatekeeper/v1/verify|mutate`,
 * also on Ratify's paths `/ratify/gatekeeper/v1/verify|mutate` for drop-in use (§1.9.7).
 *
 * - Exactly one item per request key, in request order, the key echoed byte for byte (duplicates
 *   too, §1.3); each item has a `value` or a non-empty `error`, never neither (§1.9.1).
 * - A negative verdict is a value (`isSuccess:false`); a per-key `error` is for an image that could
 *   not be decided. Gatekeeper caches items, errors included, for minutes (§1.8), so when any key
 *   failed for a transient reason (timeout, unreachable or throttling registry) `systemError` is set
 *   too: Gatekeeper never caches a system error, and its templates deny on it.
 * - `idempotent: true` (mandatory for mutation, §1.6; harmless on verify).
 * - Keys may carry Ratify's `[namespace]` prefix (§2.2); it is stripped before deciding.
 * - HTTP 200 with a ProviderResponse body for every answer, errors included (§1.9.5).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { ServerMetrics } from '../observability/metrics.js';
import { startBudget } from './budget.js';
import type { DecisionService, KeyResult } from './decisions.js';
import { gatekeeperValue } from './values.js';

const providerRequestSchema = z.object({
  apiVersion: z
    .string()
    .regex(/^externaldata\.gatekeeper\.sh\/v1(alpha1|beta1)$/, 'not externaldata.gatekeeper.sh/v1beta1'),
  kind: z.literal('ProviderRequest'),
  request: z.object({ keys: z.array(z.string()) }),
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

/** Parses a ProviderRequest body, or answers with a systemError and returns undefined. */
function parseRequest(
  body: unknown,
  reply: FastifyReply,
  opts: GatekeeperRouteOptions,
): string[] | undefined {
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
  const { keys } = parsed.data.request;
  if (keys.length > opts.maxKeys) {
    opts.metrics.rejected('too-many-keys');
    void reply
      .code(413)
      .send(systemErrorResponse(`too many keys: ${keys.length} (at most ${opts.maxKeys} per request)`));
    return undefined;
  }
  return keys;
}

const errorItem = (key: string, r: Extract<KeyResult, { kind: 'error' }>): ProviderItem => ({
  key,
  error: r.message,
});

/** Registers the Gatekeeper routes. */
export function registerGatekeeperRoutes(app: FastifyInstance, opts: GatekeeperRouteOptions): void {
  const handle = (mode: Mode) => async (request: { body: unknown; id: string }, reply: FastifyReply) => {
    const started = performance.now();
    const keys = parseRequest(request.body, reply, opts);
    if (!keys) return reply;
    const budget = startBudget(mode === 'verify' ? opts.validateMs : opts.mutateMs);
    try {
      // one computation per distinct image within the request; every key still gets its own item
      const perImage = new Map<string, Promise<ProviderItem>>();
      let transient = 0;
      const answer = async (image: string): Promise<ProviderItem> => {
        if (mode === 'mutate') {
          const pinned = await opts.decisions.pin(image, budget.signal);
          if ('kind' in pinned) {
            if (pinned.kind === 'error' && pinned.transient) transient++;
            return pinned.kind === 'error'
              ? errorItem('', pinned)
              : { key: '', error: 'internal: unexpected result' };
          }
          return { key: '', value: pinned.reference };
        }
        const result = await opts.decisions.decide(image, budget.signal);
        if (result.kind === 'error') {
          if (result.transient) transient++;
          return errorItem('', result);
        }
        return { key: '', value: gatekeeperValue(result.decision, request.id) };
      };
      const items = await Promise.all(
        keys.map(async (key) => {
          const { image } = splitKey(key);
          let pending = perImage.get(image);
          if (!pending) {
            pending = answer(image);
            perImage.set(image, pending);
          }
          return { ...(await pending), key };
        }),
      );
      if (budget.signal.aborted) opts.metrics.deadlineExpired(mode);
      const response: ProviderResponse = {
        apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
        kind: 'ProviderResponse',
        response: { idempotent: true, items },
      };
      if (transient > 0) {
        response.response.systemError = `${transient} of ${perImage.size} images could not be decided (timeout or registry unavailable); see the items' errors`;
      }
      opts.metrics.request(
        `gatekeeper-${mode}`,
        transient > 0 ? 'failure' : 'success',
        (performance.now() - started) / 1000,
      );
      return reply.code(200).send(response);
    } finally {
      budget.dispose();
    }
  };
  for (const prefix of ['/gatekeeper/v1', '/ratify/gatekeeper/v1']) {
    app.post(`${prefix}/verify`, handle('verify'));
    app.post(`${prefix}/mutate`, handle('mutate'));
  }
}
