/**
 * Registry credentials from the config: explicit credentials first, then docker's config.json
 * (unless turned off). Password files are read here, once; credentials stay in this process.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { VouchError } from '../errors.js';
import type { Credential, CredentialStore } from '../registry/auth/index.js';
import {
  ChainCredentialStore,
  DockerConfigCredentialStore,
  StaticCredentialStore,
} from '../registry/auth/index.js';
import type { VouchConfig } from './schema.js';

export async function buildCredentialStore(
  registries: VouchConfig['registries'],
  baseDir: string,
): Promise<CredentialStore> {
  const explicit: Record<string, Credential> = {};
  for (const [i, c] of registries.credentials.entries()) {
    let password = c.password;
    if (c.passwordFile !== undefined) {
      const file = path.resolve(baseDir, c.passwordFile);
      try {
        password = (await readFile(file, 'utf8')).split(/\r?\n/)[0] ?? '';
      } catch {
        throw new VouchError(
          'CONFIG_INVALID',
          `registries.credentials[${i}].passwordFile: ${c.passwordFile} not found`,
        );
      }
    }
    explicit[c.host] = { username: c.username, password: password ?? '' };
  }
  const stores: CredentialStore[] = [new StaticCredentialStore(explicit)];
  if (registries.dockerConfig !== false) {
    stores.push(
      new DockerConfigCredentialStore(
        typeof registries.dockerConfig === 'string'
          ? { path: path.resolve(baseDir, registries.dockerConfig) }
          : {},
      ),
    );
  }
  return new ChainCredentialStore(stores);
}
