/**
 * Configuration from the environment, for container deployments (docs/server.md, "Environment").
 * Precedence: flag > environment > vouch.yaml > default; this file only builds the environment's
 * fragment, which `composeConfig` places between the file and the flags.
 *
 * 1. The ATCR provider's variables (reference/atcr-gatekeeper-provider.md, "Provider
 *    Configuration"): TRUST_POLICY_PATH, HTTP_PORT, LOG_LEVEL, CACHE_ENABLED, CACHE_TTL (seconds),
 *    DID_RESOLVER_TIMEOUT and PDS_TIMEOUT (Go durations such as `10s`, `500ms`).
 * 2. `VOUCH_<SECTION>__<FIELD>[__<FIELD>…]` for any vouch.yaml field: path segments separated by
 *    `__`, each in SCREAMING_SNAKE_CASE for the camelCase field (`VOUCH_SERVER__BUDGETS__VALIDATE_MS`
 *    → `server.budgets.validateMs`). Values are JSON when they parse as JSON (numbers, booleans,
 *    arrays), strings otherwise. Variables without `__` (VOUCH_DEBUG, VOUCH_ROOT, …) are not config.
 *    They override the ATCR variables.
 */

import { parseDuration } from '../config/duration.js';
import type { VouchConfigInput } from '../config/schema.js';
import { VouchError } from '../errors.js';

type Env = Readonly<Record<string, string | undefined>>;

function parseBoolean(value: string, name: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new VouchError('CONFIG_INVALID', `${name}: "${value}" is not a boolean (true or false)`);
}

function parseInteger(value: string, name: string): number {
  if (!/^\d+$/.test(value.trim()))
    throw new VouchError('CONFIG_INVALID', `${name}: "${value}" is not a whole number`);
  return Number(value);
}

/** `VALIDATE_MS` → `validateMs`. */
export function camelSegment(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  });
}

function jsonOrString(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The config fragment the environment describes (empty object when nothing is set). */
export function configFromEnv(
  env: Env = process.env,
  options: { readonly atprotoConfigured?: boolean } = {},
): VouchConfigInput {
  const out: Record<string, unknown> = {};
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v;
  };
  const trustPolicy = get('TRUST_POLICY_PATH');
  if (trustPolicy) setPath(out, ['verifiers', 'atproto', 'trustPolicyFile'], trustPolicy);
  const port = get('HTTP_PORT');
  if (port) setPath(out, ['server', 'listen'], `0.0.0.0:${parseInteger(port, 'HTTP_PORT')}`);
  const level = get('LOG_LEVEL');
  if (level) setPath(out, ['server', 'logLevel'], level.toLowerCase());
  const cacheEnabled = get('CACHE_ENABLED');
  if (cacheEnabled) setPath(out, ['server', 'cache', 'enabled'], parseBoolean(cacheEnabled, 'CACHE_ENABLED'));
  const ttl = get('CACHE_TTL');
  if (ttl)
    setPath(out, ['cache', 'ttlSeconds'], Math.max(1, Math.round(parseDuration(ttl, 'CACHE_TTL') / 1000)));
  const did = get('DID_RESOLVER_TIMEOUT');
  if (did)
    setPath(
      out,
      ['verifiers', 'atproto', 'didResolverTimeoutMs'],
      parseDuration(did, 'DID_RESOLVER_TIMEOUT'),
    );
  const pds = get('PDS_TIMEOUT');
  if (pds) setPath(out, ['verifiers', 'atproto', 'pdsTimeoutMs'], parseDuration(pds, 'PDS_TIMEOUT'));

  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (value === undefined || !name.startsWith('VOUCH_') || !name.includes('__')) continue;
    const path = name.slice('VOUCH_'.length).split('__').map(camelSegment);
    if (path.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype')) {
      throw new VouchError('CONFIG_INVALID', `${name}: not a config path`);
    }
    setPath(out, path, jsonOrString(value));
  }
  // the atproto timeouts apply only when atproto is configured (by the file, a flag or TRUST_POLICY_PATH)
  const atproto = (out.verifiers as Record<string, Record<string, unknown>> | undefined)?.atproto;
  if (
    atproto &&
    !options.atprotoConfigured &&
    atproto.trustPolicyFile === undefined &&
    atproto.trustPolicy === undefined
  ) {
    delete (out.verifiers as Record<string, unknown>).atproto;
  }
  return out as VouchConfigInput;
}
