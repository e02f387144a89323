/**
 * Credentials from docker's config.json (docker/cli `cli/config/configfile`): `auths` entries
 * (`auth` = base64 "user:password", or `username`/`password`, or `identitytoken`), `credHelpers`
 * (per-host helper) and `credsStore` (default helper), both run as `docker-credential-<name> get`.
 * The file is `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`; a missing file means no
 * credentials. Secrets are never logged or put into error messages.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { VouchError } from '../../errors.js';
import { runCredentialHelper } from './helper.js';
import { normalizeHost } from './static.js';
import type { Credential, CredentialStore } from './types.js';

/** Largest config.json read. */
const MAX_CONFIG_BYTES = 1024 * 1024;

export interface DockerConfigOptions {
  /** Explicit config.json path; default from `DOCKER_CONFIG` or the home directory. */
  readonly path?: string;
  /** Environment to read `DOCKER_CONFIG` and `HOME` from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Time limit for one credential helper run (default 5 s). */
  readonly helperTimeoutMs?: number;
}

interface AuthEntry {
  readonly auth?: string;
  readonly username?: string;
  readonly password?: string;
  readonly identitytoken?: string;
}

interface DockerConfigFile {
  readonly auths: ReadonlyMap<string, AuthEntry>;
  readonly credHelpers: ReadonlyMap<string, string>;
  readonly credsStore?: string;
}

/** The default location of docker's config.json. */
export function dockerConfigPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const dir = env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker');
  return join(dir, 'config.json');
}

/** A CredentialStore reading docker's config.json (read once, on first use). */
export class DockerConfigCredentialStore implements CredentialStore {
  readonly #path: string;
  readonly #helperTimeoutMs: number;
  #config: Promise<DockerConfigFile> | undefined;

  constructor(options: DockerConfigOptions = {}) {
    this.#path = options.path ?? dockerConfigPath(options.env);
    this.#helperTimeoutMs = options.helperTimeoutMs ?? 5000;
  }

  async get(host: string): Promise<Credential | undefined> {
    this.#config ??= loadDockerConfig(this.#path);
    const config = await this.#config;
    const key = normalizeHost(host);
    const helper = config.credHelpers.get(key);
    if (helper) return runCredentialHelper(helper, serverUrlFor(key), this.#helperTimeoutMs);
    const entry = config.auths.get(key);
    const fromEntry = entry ? credentialFromEntry(entry, this.#path, key) : undefined;
    if (fromEntry) return fromEntry;
    if (config.credsStore)
      return runCredentialHelper(config.credsStore, serverUrlFor(key), this.#helperTimeoutMs);
    return undefined;
  }
}

/** Docker Hub's credentials are stored under its legacy v1 URL. */
function serverUrlFor(host: string): string {
  return host === 'docker.io' ? 'https://index.docker.io/v1/' : host;
}

function credentialFromEntry(entry: AuthEntry, path: string, host: string): Credential | undefined {
  if (entry.identitytoken) return { identityToken: entry.identitytoken };
  if (entry.auth) {
    let decoded: string;
    try {
      decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    } catch {
      decoded = '';
    }
    const colon = decoded.indexOf(':');
    if (colon <= 0) {
      throw new VouchError(
        'CONFIG_INVALID',
        `${path}: auths["${host}"].auth is not base64 of "username:password"`,
      );
    }
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username !== undefined && entry.password !== undefined) {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** Reads and shape-checks config.json; a missing file is an empty config. */
export async function loadDockerConfig(path: string): Promise<DockerConfigFile> {
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.byteLength > MAX_CONFIG_BYTES) {
      throw new VouchError('CONFIG_INVALID', `${path} is larger than ${MAX_CONFIG_BYTES} bytes`);
    }
    text = bytes.toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { auths: new Map(), credHelpers: new Map() };
    if (err instanceof VouchError) throw err;
    throw new VouchError('CONFIG_INVALID', `cannot read docker config ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // the parser's message can quote file content (secrets), so it is not passed on
    throw new VouchError('CONFIG_INVALID', `docker config ${path} is not valid JSON`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new VouchError('CONFIG_INVALID', `docker config ${path} is not a JSON object`);
  }
  const obj = json as Record<string, unknown>;
  const auths = new Map<string, AuthEntry>();
  if (obj.auths !== undefined) {
    if (typeof obj.auths !== 'object' || obj.auths === null) {
      throw new VouchError('CONFIG_INVALID', `docker config ${path}: "auths" is not an object`);
    }
    for (const [key, value] of Object.entries(obj.auths as Record<string, unknown>)) {
      if (typeof value !== 'object' || value === null) {
        throw new VouchError('CONFIG_INVALID', `docker config ${path}: auths["${key}"] is not an object`);
      }
      const v = value as Record<string, unknown>;
      const str = (name: string): string | undefined =>
        typeof v[name] === 'string' && v[name] !== '' ? (v[name] as string) : undefined;
      const entry: { auth?: string; username?: string; password?: string; identitytoken?: string } = {};
      const auth = str('auth');
      const username = str('username');
      const password = str('password');
      const identitytoken = str('identitytoken');
      if (auth !== undefined) entry.auth = auth;
      if (username !== undefined) entry.username = username;
      if (password !== undefined) entry.password = password;
      if (identitytoken !== undefined) entry.identitytoken = identitytoken;
      auths.set(normalizeHost(key), entry);
    }
  }
  const credHelpers = new Map<string, string>();
  if (obj.credHelpers !== undefined) {
    if (typeof obj.credHelpers !== 'object' || obj.credHelpers === null) {
      throw new VouchError('CONFIG_INVALID', `docker config ${path}: "credHelpers" is not an object`);
    }
    for (const [key, value] of Object.entries(obj.credHelpers as Record<string, unknown>)) {
      if (typeof value !== 'string' || !/^[A-Za-z0-9._-]+$/.test(value)) {
        throw new VouchError(
          'CONFIG_INVALID',
          `docker config ${path}: credHelpers["${key}"] is not a helper name`,
        );
      }
      credHelpers.set(normalizeHost(key), value);
    }
  }
  let credsStore: string | undefined;
  if (obj.credsStore !== undefined && obj.credsStore !== '') {
    if (typeof obj.credsStore !== 'string' || !/^[A-Za-z0-9._-]+$/.test(obj.credsStore)) {
      throw new VouchError('CONFIG_INVALID', `docker config ${path}: "credsStore" is not a helper name`);
    }
    credsStore = obj.credsStore;
  }
  return credsStore === undefined ? { auths, credHelpers } : { auths, credHelpers, credsStore };
}
