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
    /** Registry host (`host[:port]`) these credentials are for. */
    host: z.string().min(1),
    username: z.string().min(1),
    /** Inline password (prefer passwordFile or the environment). */
    password: z.string().optional(),
    /** File holding the password (its first line). */
    passwordFile: z.string().optional(),
  })
  .strict()
  .refine((c) => (c.password === undefined) !== (c.passwordFile === undefined), {
    message: 'give exactly one of password or passwordFile',
  });

export const registriesSchema = z
  .object({
    /** Hosts (`host[:port]`) reached over plain HTTP. None by default. */
    insecure: z.array(z.string().min(1)).default([]),
    /** Extra CA certificate files (PEM) trusted for registry TLS, beside the system CAs. */
    caFiles: z.array(z.string().min(1)).default([]),
    /** Read docker's config.json for credentials (`true`: $DOCKER_CONFIG or ~/.docker; a string: that file). */
    dockerConfig: z.union([z.boolean(), z.string().min(1)]).default(true),
    /** Explicit credentials, tried before docker's config. */
    credentials: z.array(credentialSchema).default([]),
    /** Requests in flight per registry host. */
    perHostConcurrency: z.number().int().positive().default(16),
  })
  .strict();

export const engineSchema = z
  .object({
    /** Artifacts verified at once per decision. */
    concurrency: z.number().int().positive().default(16),
    /** How deep artifacts of artifacts are followed. */
    discoveryDepth: z.number().int().min(0).max(5).default(2),
    /** Deadline of one `vouch verify` decision, in milliseconds. */
    timeoutMs: z.number().int().positive().default(30_000),
  })
  .strict();

export const cacheSchema = z
  .object({
    /** `memory` (per process) or `redis` (shared; memory stays in front of it). */
    type: z.enum(['memory', 'redis']).default('memory'),
    /** Lifetime of cached decisions and fetched content, in seconds. */
    ttlSeconds: z.number().int().positive().default(300),
    /** Bound of the memory cache, in entries. */
    maxEntries: z.number().int().positive().default(10_000),
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
    /** Schema version of this file. */
    version: z.literal(1).default(1),
    registries: registriesSchema.default(() => registriesSchema.parse({})),
    verifiers: verifiersSchema.default({}),
    policy: policySchema.default(() => policySchema.parse({})),
    engine: engineSchema.default(() => engineSchema.parse({})),
    cache: cacheSchema.default(() => cacheSchema.parse({})),
    /** The server's settings (`vouch serve`); see docs/server.md. */
    server: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type VouchConfig = z.infer<typeof configSchema>;
export type VouchConfigInput = z.input<typeof configSchema>;
