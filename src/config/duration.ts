/**
 * Durations as users write them in environment variables and Ratify plugin configs (Go's
 * `time.ParseDuration` subset: `10s`, `1.5s`, `500ms`, `2m`, `1h`), or a bare number of seconds.
 * Lives in config/ so the server's environment reader and the Ratify plugin share it.
 */
import { VouchError } from '../errors.js';

/** `10s`, `1.5s`, `500ms`, `2m`, or a bare number of seconds → milliseconds. */
export function parseDuration(value: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new VouchError('CONFIG_INVALID', `${name}: "${value}" is not a duration (e.g. 10s, 500ms)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * factor);
}
