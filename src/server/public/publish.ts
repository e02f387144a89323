/**
 * What the validating webhook publishes about an allowed pod (docs/remote-verification.md,
 * "Publishing admitted images"): whether the pod opted in, and the one entry per container built
 * from its decision. Only image references and verification facts; the pod's name only when
 * `includePodNames`. Publishing never changes an admission answer: a failure to record is logged.
 */
import type { Decision } from '../../engine/types.js';
import type { Logger } from '../../observability/logger.js';
import type { PublishedImage, VerificationDetails } from './envelope.js';
import { verifiedSignatures } from './facts.js';
import type { ApplicationStore } from './store.js';

/** The pod annotation that opts a pod in (`"true"`) or out (`"false"`). */
export const PUBLIC_ANNOTATION = 'vouch.dev/public-verification';

export interface PublishOptions {
  /** Namespaces opted in by configuration. */
  readonly namespaces: readonly string[];
  readonly store: ApplicationStore;
  readonly includePodNames: boolean;
  readonly logger: Logger;
}

/** The published entry of one admitted container. */
export function publishedImage(
  container: string,
  decision: Decision,
  details: VerificationDetails | undefined,
  now = new Date(),
): PublishedImage {
  return {
    reference: `${decision.subject.name}@${decision.subject.digest}`,
    name: decision.subject.name,
    digest: decision.subject.digest,
    container,
    ...(details ? { details } : {}),
    rule: decision.rule,
    verified: decision.verified,
    signatures: verifiedSignatures(decision),
    decidedAt: decision.decidedAt,
    admittedAt: now.toISOString(),
  };
}

export interface AdmittedPod {
  readonly namespace: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** The request came on a webhook path with the `public` option. */
  readonly pathOptIn: boolean;
  readonly dryRun: boolean;
  readonly images: readonly PublishedImage[];
  /** `Kind/name` of the admitted object. */
  readonly pod?: string;
}

/** How long an admission answer waits for its images to be recorded (the recording goes on). */
const MAX_WAIT_MS = 250;

/**
 * Records an allowed pod's images when it opted in; never throws, and waits at most
 * `MAX_WAIT_MS` (a slow shared cache must not slow admission: updates of one namespace queue).
 */
export async function publishAdmitted(publish: PublishOptions, pod: AdmittedPod): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, MAX_WAIT_MS);
    timer.unref();
  });
  await Promise.race([recordAdmitted(publish, pod), waited]);
  clearTimeout(timer);
}

async function recordAdmitted(publish: PublishOptions, pod: AdmittedPod): Promise<void> {
  if (pod.dryRun) return;
  const optIn = pod.annotations[PUBLIC_ANNOTATION];
  const opted =
    optIn === 'true' || (optIn !== 'false' && (pod.pathOptIn || publish.namespaces.includes(pod.namespace)));
  if (!opted) return;
  const { pod: name } = pod;
  const images = publish.includePodNames && name ? pod.images.map((i) => ({ ...i, pod: name })) : pod.images;
  try {
    await publish.store.record(pod.namespace, images);
  } catch (err) {
    publish.logger.warn(
      { namespace: pod.namespace, error: (err as Error).message },
      'admitted images not published',
    );
  }
}
