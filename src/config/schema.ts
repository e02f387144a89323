/**
 * The one schema of vouch.yaml. Every default lives here (or in the section schemas it composes);
 * docs/configuration.md is generated from it (`npm run docs:config`).
 */
import { z } from 'zod';
import { FORMATS } from '../formats/index.js';
import { policySchema } from '../policy/types.js';

export const credentialSchema = z
  .object({
    host: z.string().min(1).describe('Registry host (`host[:port]`) these credentials are for.'),
    username: z.string().min(1).describe('User name sent to the registry (basic auth or token exchange).'),
    password: z
      .string()
      .optional()
      .describe(
        'Inline password. Give exactly one of password or passwordFile; prefer passwordFile, which keeps the secret out of vouch.yaml.',
      ),
    passwordFile: z
      .string()
      .optional()
      .describe(
        "File holding the password (its first line is used); relative to vouch.yaml's folder. Read once, at start.",
      ),
  })
  .strict()
  .refine((c) => (c.password === undefined) !== (c.passwordFile === undefined), {
    message: 'give exactly one of password or passwordFile',
  });

export const registriesSchema = z
  .object({
    insecure: z
      .array(z.string().min(1))
      .default([])
      .describe('Hosts (`host[:port]`) reached over plain HTTP. None by default.'),
    caFiles: z
      .array(z.string().min(1))
      .default([])
      .describe('Extra CA certificate files (PEM) trusted for registry TLS, beside the system CAs.'),
    allowPrivateNetwork: z
      .boolean()
      .default(false)
      .describe(
        "Follow token realms and redirects a registry names on another host even when they are loopback, private or link-local addresses (default false: refused, EGRESS_REFUSED). The registry's own host name and the `insecure` hosts are trusted either way.",
      ),
    dockerConfig: z
      .union([z.boolean(), z.string().min(1)])
      .default(true)
      .describe(
        "Read docker's config.json for credentials (`true`: $DOCKER_CONFIG or ~/.docker; a string: that file).",
      ),
    credentials: z
      .array(credentialSchema)
      .default([])
      .describe("Explicit credentials, one entry per registry host, tried before docker's config.json."),
    perHostConcurrency: z
      .number()
      .int()
      .positive()
      .default(64)
      .describe(
        'Requests in flight per registry host (high enough to keep a distant registry busy: at 20 ms RTT, 64 in flight allow ~3,000 requests/s).',
      ),
  })
  .strict();

export const engineSchema = z
  .object({
    concurrency: z
      .number()
      .int()
      .positive()
      .default(16)
      .describe(
        'Artifacts verified at once within one decision (more uses more registry connections and CPU).',
      ),
    discoveryDepth: z
      .number()
      .int()
      .min(0)
      .max(5)
      .default(2)
      .describe(
        'Levels of artifacts discovered: 1 finds what is attached to the image; 2 also what is attached to those (the signature of an SBOM); 0 finds nothing, so nothing can verify. At most 5.',
      ),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe(
        'Deadline of one decision, in milliseconds, covering every registry request and verification; when it passes the outcome is inconclusive (denied in enforce mode).',
      ),
  })
  .strict();

export const cacheSchema = z
  .object({
    type: z
      .enum(['memory', 'redis'])
      .default('memory')
      .describe('`memory` (per process) or `redis` (shared; memory stays in front of it).'),
    ttlSeconds: z
      .number()
      .int()
      .positive()
      .default(300)
      .describe('Lifetime of cached decisions and fetched content, in seconds.'),
    maxEntries: z
      .number()
      .int()
      .positive()
      .default(10_000)
      .describe('Bound of the memory cache, in entries.'),
    /** Bound of the memory cache, in bytes of JSON. */
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024)
      .describe(
        'Bound of the memory cache, in bytes of serialized JSON (default 64 MiB); least recently used entries are evicted first.',
      ),
    redis: z
      .object({
        url: z
          .string()
          .min(1)
          .describe(
            'Redis URL, e.g. `redis://redis:6379/0` or `rediss://…` for TLS. Required when type is `redis`.',
          ),
        keyPrefix: z
          .string()
          .default('vouch:')
          .describe('Prefix of every key vouch writes, so several deployments can share one Redis.'),
      })
      .strict()
      .optional()
      .describe(
        'The shared Redis cache; used only when type is `redis`. If Redis is down, the memory cache serves alone.',
      ),
  })
  .strict()
  .refine((c) => c.type !== 'redis' || c.redis !== undefined, {
    message: 'type redis needs redis.url',
    path: ['redis'],
  });

/** `verifiers`: one optional section per format, in the list's order (src/formats/index.ts). */
type VerifiersShape = {
  [F in (typeof FORMATS)[number] as F['name']]: z.ZodOptional<F['configSchema']>;
};

export const verifiersSchema = z
  .object(
    Object.fromEntries(
      FORMATS.map((format) => [format.name, format.configSchema.optional().describe(format.summary)]),
    ) as VerifiersShape,
  )
  .strict();

export const configSchema = z
  .object({
    version: z.literal(1).default(1).describe('Schema version of this file; only `1` exists.'),
    registries: registriesSchema
      .default(() => registriesSchema.parse({}))
      .describe('How vouch reaches registries: plain-HTTP hosts, extra CAs, credentials, concurrency.'),
    verifiers: verifiersSchema
      .default({})
      .describe(
        'The verifiers to enable and their trust material; a verifier left out is not run, and a policy rule may only require configured verifiers.',
      ),
    policy: policySchema
      .default(() => policySchema.parse({}))
      .describe('Which verifiers must succeed for which images; see docs/policy.md.'),
    engine: engineSchema
      .default(() => engineSchema.parse({}))
      .describe('Limits of one decision: concurrency, discovery depth, deadline.'),
    cache: cacheSchema
      .default(() => cacheSchema.parse({}))
      .describe('Cache of decisions and fetched content (keyed by digest and trust generation).'),
    server: z
      .record(z.string(), z.unknown())
      .default({})
      .describe(
        "The server's settings (`vouch serve`: listen address, TLS, routes, timeouts); documented in docs/server.md.",
      ),
  })
  .strict();

export type VouchConfig = z.infer<typeof configSchema>;
export type VouchConfigInput = z.input<typeof configSchema>;
