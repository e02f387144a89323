/**
 * The one schema of vouch.yaml. Every default lives here (or in the section schemas it composes);
 * docs/configuration.md is generated from it (`npm run docs:config`).
 */
import { z } from 'zod';
import { policySchema } from '../policy/types.js';
import { atprotoConfigSchema } from '../verifiers/atproto/config.js';
import { cosignConfigSchema } from '../verifiers/cosign/config.js';
import { notationConfigSchema } from '../verifiers/notation/config.js';

export const credentialSchema = z
  .object({
    host: z.string().min(1).describe('Registry host (`host[:port]`) these credentials are for.'),
    username: z.string().min(1),
    password: z.string().optional().describe('Inline password (prefer passwordFile or the environment).'),
    passwordFile: z.string().optional().describe('File holding the password (its first line).'),
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
    dockerConfig: z
      .union([z.boolean(), z.string().min(1)])
      .default(true)
      .describe(
        "Read docker's config.json for credentials (`true`: $DOCKER_CONFIG or ~/.docker; a string: that file).",
      ),
    credentials: z
      .array(credentialSchema)
      .default([])
      .describe("Explicit credentials, tried before docker's config."),
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
    concurrency: z.number().int().positive().default(16).describe('Artifacts verified at once per decision.'),
    discoveryDepth: z
      .number()
      .int()
      .min(0)
      .max(5)
      .default(2)
      .describe('How deep artifacts of artifacts are followed.'),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe('Deadline of one `vouch verify` decision, in milliseconds.'),
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
      .default(64 * 1024 * 1024),
    redis: z
      .object({
        url: z.string().min(1),
        keyPrefix: z.string().default('vouch:'),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((c) => c.type !== 'redis' || c.redis !== undefined, {
    message: 'type redis needs redis.url',
    path: ['redis'],
  });

export const verifiersSchema = z
  .object({
    notation: notationConfigSchema.optional(),
    cosign: cosignConfigSchema.optional(),
    atproto: atprotoConfigSchema.optional(),
  })
  .strict();

export const configSchema = z
  .object({
    version: z.literal(1).default(1).describe('Schema version of this file.'),
    registries: registriesSchema.default(() => registriesSchema.parse({})),
    verifiers: verifiersSchema.default({}),
    policy: policySchema.default(() => policySchema.parse({})),
    engine: engineSchema.default(() => engineSchema.parse({})),
    cache: cacheSchema.default(() => cacheSchema.parse({})),
    server: z
      .record(z.string(), z.unknown())
      .default({})
      .describe("The server's settings (`vouch serve`); see docs/server.md."),
  })
  .strict();

export type VouchConfig = z.infer<typeof configSchema>;
export type VouchConfigInput = z.input<typeof configSchema>;
