/**
 * The ATCR provider API (reference/atcr-gatekeeper-provider.md, "API Specification"):
 * `POST /provide` with `{"keys":["image"],"values":[…]}` →
 * `{"responses":[{"image","verified","did","handle","signedAt","commitCid","error"}]}`, one response
 * per value in order, extended with `allowed`, `digest`, `signers` and `why` (docs/server.md).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ServerMetrics } from '../observability/metrics.js';
import { startBudget } from './budget.js';
import type { DecisionService } from './decisions.js';
import { type ProvideEntry, provideEntry } from './values.js';

const provideRequestSchema = z.object({
  keys: z.array(z.string()).optional(),
  values: z.array(z.string()),
});

export interface ProvideRouteOptions {
  readonly decisions: DecisionService;
  readonly metrics: ServerMetrics;
  readonly validateMs: number;
  readonly maxKeys: number;
}

export function registerProvideRoute(app: FastifyInstance, opts: ProvideRouteOptions): void {
  app.post('/provide', async (request, reply) => {
    const started = performance.now();
    const parsed = provideRequestSchema.safeParse(request.body);
    if (!parsed.success) {
      opts.metrics.rejected('malformed');
      return reply.code(400).send({ error: 'expected {"keys":["image"],"values":["<image reference>", …]}' });
    }
    const { values } = parsed.data;
    if (values.length > opts.maxKeys) {
      opts.metrics.rejected('too-many-keys');
      return reply.code(413).send({ error: `too many values: ${values.length} (at most ${opts.maxKeys})` });
    }
    const budget = startBudget(opts.validateMs);
    try {
      let failed = false;
      const responses = await Promise.all(
        values.map(async (image): Promise<ProvideEntry> => {
          const result = await opts.decisions.decide(image, budget.signal);
          if (result.kind === 'error') {
            failed = true;
            return { image, verified: false, error: result.message };
          }
          return provideEntry(image, result.decision);
        }),
      );
      if (budget.signal.aborted) opts.metrics.deadlineExpired('provide');
      opts.metrics.request('provide', failed ? 'failure' : 'success', (performance.now() - started) / 1000);
      return reply.send({ responses });
    } finally {
      budget.dispose();
    }
  });
}
