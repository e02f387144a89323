/**
 * The store config Ratify passes a plugin, as vouch's registry settings: a plugin is a separate
 * process, so it fetches the artifact itself with the credentials Ratify's ORAS store would use
 * (pkg/referrerstore/oras: `useHttp`, `authProvider`). Registry credentials stay in this process:
 * nothing of them reaches a shared cache (Ratify's credential-cache note: a cache shared across
 * tenants must not hand one tenant's token to another).
 */
import type { VouchConfigInput } from '../config/schema.js';
import { PluginErrorCode, RatifyPluginError, type StorePluginConfig } from './protocol.js';

/** Auth providers vouch can stand in for; others are named in the error. */
const AUTH_PROVIDERS = new Set(['dockerConfig']);

/** `registries` settings for the subject's registry host. */
export function registriesFromStore(
  store: StorePluginConfig,
  host: string,
): NonNullable<VouchConfigInput['registries']> {
  if (store.name !== 'oras')
    throw new RatifyPluginError(
      PluginErrorCode.ArgsParsingFailure,
      `create store from input config failed: store "${String(store.name).slice(0, 60)}" is not supported (vouch reads registries as Ratify's oras store does)`,
    );
  const out: { insecure?: string[]; dockerConfig?: boolean | string } = {};
  if (store.useHttp === true) out.insecure = [host];
  const auth = store.authProvider as { name?: unknown; configPath?: unknown } | undefined;
  if (auth !== undefined) {
    const name = typeof auth?.name === 'string' ? auth.name : '';
    if (!AUTH_PROVIDERS.has(name))
      throw new RatifyPluginError(
        PluginErrorCode.ArgsParsingFailure,
        `create store from input config failed: authProvider "${name.slice(0, 60)}" is not supported by the vouch plugin (use dockerConfig)`,
      );
    if (typeof auth.configPath === 'string' && auth.configPath !== '') out.dockerConfig = auth.configPath;
  }
  return out as NonNullable<VouchConfigInput['registries']>;
}
