/**
 * The `server:` section of vouch.yaml (the top-level schema keeps it as a record; it is validated
 * here, with every server default in one place). See docs/server.md.
 *
 * Budgets: keep `budgets.validateMs` < the Gatekeeper Provider's `spec.timeout` < the validating
 * webhook's `timeoutSeconds` (protocols README §1.7), so that vouch answers before anyone gives up
 * and a timeout is vouch's deny, never the API server's fail-open.
 */
import { z } from 'zod';
import { configErrorFromZod } from '../config/errors.js';
import { publicVerificationSchema, verificationDetailsSchema } from './public/config.js';

/** Checked when the config loads (CONFIG_INVALID), so parseListen's RangeError is not reached from config. */
const LISTEN_MESSAGE = 'must be HOST:PORT (IPv6 as [::1]:8443), port at most 65535';
function isListen(listen: string): boolean {
  try {
    parseListen(listen);
    return true;
  } catch {
    return false;
  }
}

export const serverConfigSchema = z
  .object({
    /** `HOST:PORT` to listen on. */
    listen: z.string().min(1).refine(isListen, LISTEN_MESSAGE).default('0.0.0.0:8443'),
    /**
     * `HOST:PORT` of a second, plain-HTTP listener serving only `/health`, `/ready` and `/metrics`
     * (no decisions), for the kubelet's probes and Prometheus when the main port requires client
     * certificates (mTLS). Off unless set.
     */
    probeListen: z.string().min(1).refine(isListen, LISTEN_MESSAGE).optional(),
    tls: z
      .object({
        /** Server certificate chain (PEM); reloaded when the file changes. */
        certFile: z.string().min(1).optional(),
        /** Server private key (PEM); reloaded when the file changes. */
        keyFile: z.string().min(1).optional(),
        /** CA (PEM) client certificates must chain to (Gatekeeper's ca.crt); turns on mTLS. */
        clientCaFile: z.string().min(1).optional(),
        /** Serve plain HTTP (local use only). */
        insecureHttp: z.boolean().default(false),
        /** How often the files are re-read besides change events, in ms. */
        pollMs: z.number().int().positive().default(5000),
      })
      .strict()
      .default({ insecureHttp: false, pollMs: 5000 }),
    budgets: z
      .object({
        /** Budget of one validate request (Gatekeeper verify, /provide, admission validate), ms. */
        validateMs: z.number().int().positive().default(2800),
        /** Budget of one mutate request, ms. */
        mutateMs: z.number().int().positive().default(900),
      })
      .strict()
      .default({ validateMs: 2800, mutateMs: 900 }),
    limits: z
      .object({
        /** Largest request body, bytes. */
        bodyBytes: z
          .number()
          .int()
          .positive()
          .default(1024 * 1024),
        /** Most keys (images) in one request. */
        maxKeys: z.number().int().positive().default(1000),
        /** Requests one client (certificate or address) may have in flight; more get 503. */
        perClientConcurrency: z.number().int().positive().default(64),
        /** Requests in flight in total; more get 503. */
        maxInflight: z.number().int().positive().default(512),
        /** Images decided at once across all requests (registry work). */
        imageConcurrency: z.number().int().positive().default(128),
        /** Seconds in the Retry-After header of a 503. */
        retryAfterSeconds: z.number().int().positive().default(1),
      })
      .strict()
      .default({
        bodyBytes: 1024 * 1024,
        maxKeys: 1000,
        perClientConcurrency: 64,
        maxInflight: 512,
        imageConcurrency: 128,
        retryAfterSeconds: 1,
      }),
    cache: z
      .object({
        /** Cache decisions at all (CACHE_ENABLED). */
        enabled: z.boolean().default(true),
        /** Lifetime of a tag → digest resolution, seconds (0: resolve every time). */
        resolveTtlSeconds: z.number().int().min(0).default(30),
        /** Lifetime of a denial (a failed verification), seconds; allows live for cache.ttlSeconds. */
        negativeTtlSeconds: z.number().int().min(0).default(30),
      })
      .strict()
      .default({ enabled: true, resolveTtlSeconds: 30, negativeTtlSeconds: 30 }),
    admission: z
      .object({
        /** Namespaces checked; empty means all. */
        includeNamespaces: z.array(z.string().min(1)).default([]),
        /** Namespaces never checked (vouch's own, kube-system). */
        excludeNamespaces: z.array(z.string().min(1)).default(['kube-system']),
      })
      .strict()
      .default({ includeNamespaces: [], excludeNamespaces: ['kube-system'] }),
    /**
     * Platforms (`os/arch[/variant]`) verified in admission for multi-arch rules with a platform
     * list, when the pod's nodeSelector / required node affinity names none.
     */
    platforms: z
      .array(z.string().regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/i, 'a platform is os/arch[/variant]'))
      .min(1)
      .default(['linux/amd64']),
    /** Remote application verification: the public listener (docs/remote-verification.md). */
    publicVerification: publicVerificationSchema.default(() => publicVerificationSchema.parse({})),
    /** Per-image verification details from pod annotations (docs/remote-verification.md). */
    verificationDetails: verificationDetailsSchema.default(() => verificationDetailsSchema.parse({})),
    /** Log level (LOG_LEVEL). */
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  })
  .strict();

export type ServerConfig = z.infer<typeof serverConfigSchema>;

/** Validates the `server:` section; errors name the path, e.g. `server.budgets.validateMs`. */
export function parseServerConfig(raw: unknown, source = 'config'): ServerConfig {
  const parsed = serverConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) throw configErrorFromZod(parsed.error, source, 'server');
  return parsed.data;
}

/** `HOST:PORT` (IPv6 as `[::1]:8443`) → parts. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new RangeError(`--listen must be HOST:PORT, got "${listen}"`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
