/**
 * Report age: Ratify's `maximumAge` (e.g. `24h`, `7d`, `30m`) against the artifact's
 * `org.opencontainers.image.created` annotation. The age belongs to the artifact, not the file:
 * a scanner's own timestamps are not trusted for it.
 */
import { ContentFailure } from './failure.js';

export const CREATED_ANNOTATION = 'org.opencontainers.image.created';

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses a Go-style duration (`90m`, `24h`, `1h30m`) or a day count (`7d`); throws on anything else. */
export function parseMaximumAge(text: string): number {
  const trimmed = text.trim();
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed)
    throw new Error(`maximumAge "${text}" is not a duration like 24h, 7d or 1h30m`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] as string] ?? 0), 0);
}

/**
 * Checks the artifact's creation time against `maximumAgeMs`. Returns the creation time (ISO)
 * when there is one; throws `missing-created` when the age is limited and the annotation is
 * missing or unreadable, `too-old` when it is older than the limit.
 */
export function checkAge(
  annotations: Readonly<Record<string, string>> | undefined,
  maximumAgeMs: number | undefined,
  now: Date,
): string | undefined {
  const raw = annotations?.[CREATED_ANNOTATION];
  const created = raw === undefined ? undefined : new Date(raw);
  const valid = created !== undefined && !Number.isNaN(created.getTime());
  if (maximumAgeMs === undefined) return valid ? created.toISOString() : undefined;
  if (!valid)
    throw new ContentFailure(
      'missing-created',
      raw === undefined
        ? `the artifact has no ${CREATED_ANNOTATION} annotation, so its age cannot be checked against maximumAge`
        : `the artifact's ${CREATED_ANNOTATION} annotation "${raw}" is not an RFC 3339 time`,
    );
  const age = now.getTime() - created.getTime();
  if (age > maximumAgeMs)
    throw new ContentFailure(
      'too-old',
      `the artifact was created ${created.toISOString()}, ${Math.round(age / 3_600_000)} h ago, more than maximumAge allows`,
    );
  return created.toISOString();
}
