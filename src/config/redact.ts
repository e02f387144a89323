/** Removes secrets from a config before it is printed or logged. */

const SECRET_KEYS = /^(password|token|secret|auth|identitytoken|appPassword|privateKey|apiKey)$/i;

export function redactConfig<T>(value: T): T {
  return redact(value) as T;
}

function redact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redact);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      out[k] = SECRET_KEYS.test(k) && x !== undefined ? '[redacted]' : redact(x);
    return out;
  }
  if (typeof v === 'string' && /^redis(s)?:\/\/[^@/]*:[^@/]*@/.test(v))
    return v.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:[redacted]@');
  return v;
}
