/**
 * AdmissionReviews for the public-verification and verification-details tests, built from the
 * Kubernetes fixture (admissionreview.pod-ephemeralcontainers.request.json) so that every field
 * the API server sends is there; the test chooses namespace, containers, annotations, dry run.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURE = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'fixtures',
  'admissionreview.pod-ephemeralcontainers.request.json',
);

export interface PodReviewOptions {
  readonly namespace: string;
  /** `[container name, image]`, in `spec.containers`. */
  readonly containers: ReadonlyArray<readonly [string, string]>;
  readonly annotations?: Record<string, string>;
  readonly dryRun?: boolean;
  readonly name?: string;
}

/** A CREATE of a Pod, as the API server sends it to a validating webhook. */
export async function podReview(options: PodReviewOptions): Promise<Record<string, unknown>> {
  const review = JSON.parse(await readFile(FIXTURE, 'utf8')) as {
    request: Record<string, unknown> & { object: Record<string, unknown> };
  };
  const req = review.request;
  req.uid = `uid-${Math.random().toString(16).slice(2)}`;
  req.operation = 'CREATE';
  req.namespace = options.namespace;
  req.name = options.name ?? 'web-7c9d';
  req.dryRun = options.dryRun ?? false;
  req.oldObject = null;
  for (const k of ['subResource', 'requestSubResource']) delete req[k];
  req.options = { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' };
  req.object = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name ?? 'web-7c9d',
      namespace: options.namespace,
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec: { containers: options.containers.map(([name, image]) => ({ name, image })) },
  };
  return review;
}

export interface AdmissionAnswer {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: { code: number; reason: string; message: string };
  readonly warnings?: string[];
}
