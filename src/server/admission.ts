/**
 * Kubernetes admission webhooks, AdmissionReview v1 (protocols README §3):
 * `POST /admission/validate` (ValidatingAdmissionWebhook) and `POST /admission/mutate` (tag → digest).
 *
 * - Answers HTTP 200 with `apiVersion: admission.k8s.io/v1`, `kind: AdmissionReview` and the
 *   request's `uid` (§3.3; anything else is a call failure, which `failurePolicy: Ignore` admits).
 * - Validate denies with `code 403, reason Forbidden` and a message listing each failing image by
 *   list and container and why (§3.6.2); an image that could not be decided in the budget is a
 *   failure, never an allow. Audit-mode findings become `warnings`. Never returns a patch (§3.3).
 * - Mutate returns a base64 JSONPatch with a `test` before each `replace` (§3.4), pinning tags to
 *   the digest; an image it cannot pin is left alone (the validating webhook decides on it).
 * - The budget is shortened to the API server's `?timeout=` (§3.1, §3.6.5).
 * - Namespaces: `includeNamespaces` (empty: all) and `excludeNamespaces` from config.
 * - Verification details (verification-details.ts): a container whose pod names what its image
 *   must be signed by is denied unless a verified signature matches; in an enforced namespace
 *   (`verificationDetails.enforceNamespaces`, or the path `/admission/validate/enforce-details`
 *   that a namespaceSelector on `vouch.dev/enforce-verification-details=true` routes to) a
 *   container without details is denied (`no-verification-details`).
 * - Publishing (public/store.ts): an allowed, non-dry-run pod in an opted-in namespace
 *   (`publicVerification.namespaces`, the path `/admission/validate/public`, or the pod annotation
 *   `vouch.dev/public-verification: "true"`) has its images recorded for the public listener.
 *   Path options combine: `/admission/validate/enforce-details+public`.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { ServerMetrics } from '../observability/metrics.js';
import { parseReference } from '../reference/parse.js';
import { admissionBudgetMs, startBudget } from './budget.js';
import type { DecisionService } from './decisions.js';
import { isSupportedKind, type PodImage, placeOf, podImages } from './pod-images.js';
import { podPlatforms } from './pod-platforms.js';
import type { PublishedImage } from './public/envelope.js';
import { type PublishOptions, publishAdmitted, publishedImage } from './public/publish.js';
import { detailsFailure, detailsFor, podAnnotations, podName } from './verification-details.js';

const admissionReviewSchema = z.object({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  request: z.object({
    uid: z.string().min(1),
    kind: z.object({ group: z.string().optional(), version: z.string().optional(), kind: z.string() }),
    subResource: z.string().optional(),
    namespace: z.string().optional(),
    operation: z.string(),
    object: z.unknown().optional(),
    dryRun: z.boolean().optional(),
  }),
});

type AdmissionRequest = z.infer<typeof admissionReviewSchema>['request'];

export interface AdmissionRouteOptions {
  readonly decisions: DecisionService;
  readonly metrics: ServerMetrics;
  readonly validateMs: number;
  readonly mutateMs: number;
  readonly maxKeys: number;
  readonly includeNamespaces: readonly string[];
  readonly excludeNamespaces: readonly string[];
  /** Platforms verified for a pod that names none (`server.platforms`, default `[linux/amd64]`). */
  readonly platforms: readonly string[];
  /** Per-image verification details (server.verificationDetails). */
  readonly details?: {
    readonly enforceNamespaces: readonly string[];
    /** Key name → key id (`sha256:` of the SPKI DER). */
    readonly keys: ReadonlyMap<string, string>;
  };
  /** Recording admitted images for the public listener (server.publicVerification). */
  readonly publish?: PublishOptions;
}

/** Options a webhook path adds (`/admission/validate/enforce-details+public`). */
interface PathOptions {
  readonly enforceDetails: boolean;
  readonly publish: boolean;
}

const PATH_OPTIONS = new Set(['enforce-details', 'public']);

function pathOptions(raw: string | undefined): PathOptions | undefined {
  const parts = raw ? raw.split('+') : [];
  if (parts.some((p) => !PATH_OPTIONS.has(p))) return undefined;
  return { enforceDetails: parts.includes('enforce-details'), publish: parts.includes('public') };
}

interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  warnings?: string[];
  patchType?: 'JSONPatch';
  patch?: string;
}

const envelope = (response: AdmissionResponse) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  response,
});

/** Keeps a warning under the ~120 characters kubectl shows well (§3.3). */
const short = (s: string): string => (s.length > 200 ? `${s.slice(0, 197)}...` : s);

function inScope(req: AdmissionRequest, opts: AdmissionRouteOptions): boolean {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return false;
  if (req.subResource && req.subResource !== 'ephemeralcontainers') return false;
  const ns = req.namespace ?? '';
  if (opts.excludeNamespaces.includes(ns)) return false;
  return opts.includeNamespaces.length === 0 || opts.includeNamespaces.includes(ns);
}

function parseReview(
  body: unknown,
  reply: FastifyReply,
  metrics: ServerMetrics,
): AdmissionRequest | undefined {
  const parsed = admissionReviewSchema.safeParse(body);
  if (parsed.success) return parsed.data.request;
  metrics.rejected('malformed');
  const issue = parsed.error.issues[0];
  void reply.code(400).send({
    error: `not an admission.k8s.io/v1 AdmissionReview: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
  });
  return undefined;
}

function hasTagOnly(image: string): boolean {
  try {
    return parseReference(image).digest === undefined;
  } catch {
    return false;
  }
}

async function validate(
  req: AdmissionRequest,
  images: PodImage[],
  signal: AbortSignal,
  opts: AdmissionRouteOptions,
  flags: PathOptions,
) {
  const namespace = req.namespace ?? '';
  const annotations = podAnnotations(req.kind.kind, req.object);
  const enforceDetails =
    flags.enforceDetails || (opts.details?.enforceNamespaces.includes(namespace) ?? false);
  const detailKeys = opts.details?.keys ?? new Map<string, string>();
  const published: PublishedImage[] = [];
  const platforms = podPlatforms(req.kind.kind, req.object) ?? opts.platforms;
  const failures: string[] = [];
  const warnings: string[] = [];
  const perImage = new Map<string, ReturnType<DecisionService['decide']>>();
  const results = await Promise.all(
    images.map(async (img) => {
      let pending = perImage.get(img.image);
      if (!pending) {
        pending = opts.decisions.decide(img.image, signal, platforms);
        perImage.set(img.image, pending);
      }
      return { img, result: await pending };
    }),
  );
  for (const { img, result } of results) {
    const where = `${placeOf(img)} ${img.image}`;
    if (result.kind === 'error') {
      failures.push(`- ${where}: ${result.message}`);
      continue;
    }
    const d = result.decision;
    const pinned = `${d.subject.name}@${d.subject.digest}`;
    if (hasTagOnly(img.image))
      warnings.push(short(`vouch: ${placeOf(img)} image ${img.image} uses a mutable tag; pin it by digest`));
    if (!d.allowed) {
      failures.push(`- ${where}: ${d.why[0] ?? 'not verified'} (${pinned})`);
      continue;
    }
    const lookup = detailsFor(annotations, img.name);
    const why = detailsFailure(lookup, d, {
      enforce: enforceDetails,
      namespace,
      container: img.name,
      keys: detailKeys,
    });
    if (why) {
      failures.push(`- ${where}: ${why} (${pinned})`);
      continue;
    }
    if (d.wouldDeny)
      warnings.push(short(`vouch (audit): ${where} would be denied: ${d.why[0] ?? 'not verified'}`));
    published.push(publishedImage(img.name, d, lookup.kind === 'details' ? lookup.details : undefined));
  }
  const response: AdmissionResponse = { uid: req.uid, allowed: failures.length === 0 };
  if (failures.length > 0) {
    response.status = {
      code: 403,
      reason: 'Forbidden',
      message: `vouch: ${failures.length} of ${images.length} images failed verification:\n${failures.join('\n')}`,
    };
  }
  if (warnings.length > 0) response.warnings = warnings;
  if (response.allowed && opts.publish) {
    const pod = podName(req.kind.kind, req.object);
    await publishAdmitted(opts.publish, {
      namespace,
      annotations,
      pathOptIn: flags.publish,
      dryRun: req.dryRun === true,
      images: published,
      ...(pod ? { pod } : {}),
    });
  }
  return response;
}

async function mutate(
  req: AdmissionRequest,
  images: PodImage[],
  signal: AbortSignal,
  opts: AdmissionRouteOptions,
) {
  const patch: Array<{ op: 'test' | 'replace'; path: string; value: string }> = [];
  const warnings: string[] = [];
  const results = await Promise.all(
    images
      .filter((img) => hasTagOnly(img.image))
      .map(async (img) => ({ img, pinned: await opts.decisions.pin(img.image, signal) })),
  );
  for (const { img, pinned } of results) {
    if (pinned.kind === 'error') {
      warnings.push(short(`vouch: ${placeOf(img)} image ${img.image} not pinned: ${pinned.message}`));
      continue;
    }
    patch.push({ op: 'test', path: img.pointer, value: img.image });
    patch.push({ op: 'replace', path: img.pointer, value: pinned.reference });
  }
  const response: AdmissionResponse = { uid: req.uid, allowed: true };
  if (patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
  }
  if (warnings.length > 0) response.warnings = warnings;
  return response;
}

export function registerAdmissionRoutes(app: FastifyInstance, opts: AdmissionRouteOptions): void {
  for (const [mode, path] of [
    ['validate', '/admission/validate'],
    ['validate', '/admission/validate/:options'],
    ['mutate', '/admission/mutate'],
  ] as const) {
    app.post(path, async (request, reply) => {
      const started = performance.now();
      const flags = pathOptions((request.params as { options?: string } | undefined)?.options);
      if (!flags) return reply.code(404).send({ error: 'unknown webhook path options' });
      const req = parseReview(request.body, reply, opts.metrics);
      if (!req) return reply;
      const kind = req.kind.kind;
      if (!inScope(req, opts) || !isSupportedKind(kind)) {
        opts.metrics.request(`admission-${mode}`, 'success', (performance.now() - started) / 1000);
        return reply.send(envelope({ uid: req.uid, allowed: true }));
      }
      const images = podImages(kind, req.object);
      if (images.length > opts.maxKeys) {
        opts.metrics.rejected('too-many-keys');
        return reply.send(
          envelope({
            uid: req.uid,
            allowed: false,
            status: {
              code: 403,
              reason: 'Forbidden',
              message: `vouch: ${images.length} images is more than the ${opts.maxKeys} allowed`,
            },
          }),
        );
      }
      const query = request.query as Record<string, unknown> | undefined;
      const budget = startBudget(
        admissionBudgetMs(mode === 'validate' ? opts.validateMs : opts.mutateMs, query?.timeout),
      );
      try {
        const response =
          mode === 'validate'
            ? await validate(req, images, budget.signal, opts, flags)
            : await mutate(req, images, budget.signal, opts);
        if (budget.signal.aborted) opts.metrics.deadlineExpired(`admission-${mode}`);
        opts.metrics.request(
          `admission-${mode}`,
          response.allowed ? 'success' : 'failure',
          (performance.now() - started) / 1000,
        );
        return reply.send(envelope(response));
      } finally {
        budget.dispose();
      }
    });
  }
}
