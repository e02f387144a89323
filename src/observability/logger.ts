/**
 * The logger seam: a pino-compatible subset, so tests and the CLI can pass a silent one.
 * Never log credentials: the pino instance built by `createLogger` redacts the usual paths.
 */
import { pino } from 'pino';

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Paths pino removes from every log line, wherever they appear. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'token',
  '*.token',
  'identitytoken',
  '*.identitytoken',
  'auth',
  '*.auth',
  'appPassword',
  '*.appPassword',
];

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { app: 'vouch' },
    },
    // pino accepts any writable with write(); fd 2 keeps stdout clean for CLI output
    (options.destination ?? pino.destination(2)) as pino.DestinationStream,
  );
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
