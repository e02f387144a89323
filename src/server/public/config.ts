/**
 * The `server.publicVerification` and `server.verificationDetails` sections (docs/server.md,
 * docs/remote-verification.md). Composed into the server schema (../config.ts); every default of
 * the public listener and of per-image verification details lives here.
 */
import { z } from 'zod';

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const publicVerificationSchema = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe('Serve the public listener and record the images admitted in opted-in namespaces.'),
    listen: z
      .string()
      .regex(/^(?:\[[^\]]+\]|[^:[\]]*):\d{1,5}$/, 'must be HOST:PORT (IPv6 as [::1]:8444)')
      .default('0.0.0.0:8444')
      .describe(
        '`HOST:PORT` of the public listener (separate from the webhook port; no client certificate).',
      ),
    tls: z
      .object({
        certFile: z.string().min(1).describe('Certificate chain (PEM) of the public listener.'),
        keyFile: z.string().min(1).describe('Private key (PEM) of the public listener.'),
      })
      .strict()
      .optional()
      .describe(
        'HTTPS for the public listener; without it the listener serves plain HTTP (put it behind a TLS proxy).',
      ),
    signingKeyFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        "vouch's own signing key (PEM private key: ECDSA P-256/P-384 or Ed25519, PKCS#8 or a cosign-encrypted key) that signs every published list. Required when enabled.",
      ),
    signingKeyPasswordFile: z
      .string()
      .min(1)
      .optional()
      .describe('File holding the password of a cosign-encrypted signingKeyFile (first line).'),
    publicUrl: z
      .string()
      .url()
      .optional()
      .describe(
        'Base URL readers use to reach the listener (e.g. `https://vouch.example.com`), shown in the HTML page’s verify command; default: the request’s Host.',
      ),
    namespaces: z
      .array(z.string().regex(NAMESPACE, 'a namespace name'))
      .default([])
      .describe(
        'Namespaces whose admitted images are published, besides pods annotated `vouch.dev/public-verification: "true"` and the webhook path `/admission/validate/public` (for a namespaceSelector on the label `vouch.dev/public-verification=true`).',
      ),
    ttlSeconds: z
      .number()
      .int()
      .positive()
      .default(86_400)
      .describe(
        'How long an admitted image stays listed after its last admission, in seconds (default 24 h); a namespace that opts out disappears within it.',
      ),
    maxImages: z
      .number()
      .int()
      .positive()
      .max(10_000)
      .default(200)
      .describe('Most images listed per namespace; the most recently admitted are kept.'),
    includePodNames: z
      .boolean()
      .default(false)
      .describe(
        'Publish the name of the pod (or workload) that ran each image. Off: only image references and verification facts.',
      ),
    rateLimit: z
      .object({
        perClientPerSecond: z
          .number()
          .positive()
          .default(5)
          .describe('Requests per second one client address may make (token bucket refill).'),
        burst: z.number().int().positive().default(20).describe('Requests one client may make at once.'),
        totalPerSecond: z
          .number()
          .positive()
          .default(200)
          .describe('Requests per second across all clients; more get 429.'),
      })
      .strict()
      .default({ perClientPerSecond: 5, burst: 20, totalPerSecond: 200 })
      .describe('Limits of the public listener; a request over a limit gets 429 with Retry-After.'),
  })
  .strict()
  .refine((p) => !p.enabled || p.signingKeyFile !== undefined, {
    message: 'enabled needs signingKeyFile (the key that signs published lists)',
    path: ['signingKeyFile'],
  });

export type PublicVerificationConfig = z.infer<typeof publicVerificationSchema>;

export const verificationDetailsSchema = z
  .object({
    enforceNamespaces: z
      .array(z.string().regex(NAMESPACE, 'a namespace name'))
      .default([])
      .describe(
        'Namespaces where every container must carry verification details (pod annotations `vouch.dev/verify…`), besides requests on the webhook path `/admission/validate/enforce-details` (for a namespaceSelector on the label `vouch.dev/enforce-verification-details=true`).',
      ),
    keys: z
      .record(z.string().regex(/^[A-Za-z0-9._-]{1,63}$/, 'a key name'), z.string().min(1))
      .default({})
      .describe(
        'Key names an annotation `vouch.dev/verify.<container>.key` may use: name -> public key file (PEM). A name narrows trust to signatures by that key among those the cluster policy already verified; it never adds trust.',
      ),
  })
  .strict();

export type VerificationDetailsConfig = z.infer<typeof verificationDetailsSchema>;
