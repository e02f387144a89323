/**
 * Ratify v1's external verifier plugin protocol, as Ratify v1.4.0 calls a plugin
 * (pkg/verifier/plugin/plugin.go, pkg/verifier/plugin/skel/skel.go, pkg/common/plugin/types.go,
 * pkg/verifier/types/types.go; plugins/verifier/sample/sample.go is the smallest plugin):
 *
 * - a separate process, found by the verifier's `type` (else `name`) in the plugin directories;
 * - environment `RATIFY_VERIFIER_COMMAND=VERIFY`, `RATIFY_VERIFIER_SUBJECT` (the subject reference,
 *   digest-pinned), `RATIFY_VERIFIER_VERSION` (the verifiers config's `version`, "1.0.0");
 * - stdin `{"config": {name, type?, artifactTypes?, …parameters}, "storeConfig": {version,
 *   pluginBinDirs, store: {name: "oras", useHttp, authProvider, …}}, "referenceDesc": {mediaType,
 *   digest, size, artifactType}}`;
 * - stdout a VerifierResult (`isSuccess`, `name`, `type`, `message`, `extensions`, …) and exit 0,
 *   or a plugin error `{"code": N, "msg": "…", "details": "…"}` (pretty-printed) and exit 1.
 */

/** The protocol versions Ratify v1 sends (its verifiers config `version`; skel refuses others). */
export const SUPPORTED_VERSIONS: readonly string[] = ['1.0.0'];

export const ENV = {
  command: 'RATIFY_VERIFIER_COMMAND',
  subject: 'RATIFY_VERIFIER_SUBJECT',
  version: 'RATIFY_VERIFIER_VERSION',
} as const;

export const VERIFY_COMMAND = 'VERIFY';

/** Ratify's plugin error codes (pkg/verifier/types/types.go). */
export const PluginErrorCode = {
  Unknown: 0,
  ConfigParsingFailure: 1,
  InvalidVerifierConfig: 2,
  UnknownCommand: 3,
  MissingEnvironmentVariables: 4,
  IOFailure: 5,
  VersionNotSupported: 6,
  ArgsParsingFailure: 7,
  PluginCmdFailure: 8,
  InternalFailure: 999,
} as const;

/** A plugin error as Ratify reads it from stdout. */
export class RatifyPluginError extends Error {
  readonly code: number;
  readonly details: string;

  constructor(code: number, msg: string, details = '') {
    super(msg);
    this.name = 'RatifyPluginError';
    this.code = code;
    this.details = details;
  }

  /** The JSON Ratify's `plugin.Error.Print` writes (MarshalIndent, four spaces). */
  toJSON(): { code: number; msg: string; details?: string } {
    return { code: this.code, msg: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

/** `referenceDesc`: the artifact Ratify's store listed for the subject. */
export interface ReferenceDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
}

/** Ratify's `store` section of a store config. */
export interface StorePluginConfig {
  readonly name: string;
  readonly [key: string]: unknown;
}

export interface PluginInput {
  /** The Verifier's config: `name`, `type`, `artifactTypes` and its parameters. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly storeConfig: { readonly version?: string; readonly store: StorePluginConfig };
  readonly referenceDesc: ReferenceDescriptor;
}

/** Ratify's VerifierResult as a plugin writes it (pkg/verifier/types/types.go). */
export interface VerifierResult {
  readonly isSuccess: boolean;
  readonly name: string;
  readonly type: string;
  readonly message: string;
  readonly errorReason?: string;
  readonly remediation?: string;
  readonly extensions: Readonly<Record<string, unknown>>;
}

export interface PluginArgs {
  readonly command: string;
  readonly subject: string;
  readonly version: string;
}

/** Reads the three variables, in Ratify's order and with its message for missing ones. */
export function readPluginArgs(env: Readonly<Record<string, string | undefined>>): PluginArgs {
  const command = env[ENV.command] ?? '';
  const version = env[ENV.version] ?? '';
  const subject = env[ENV.subject] ?? '';
  const missing = [
    ...(command ? [] : [ENV.command]),
    ...(version ? [] : [ENV.version]),
    ...(subject ? [] : [ENV.subject]),
  ];
  if (missing.length > 0)
    throw new RatifyPluginError(
      PluginErrorCode.MissingEnvironmentVariables,
      `missing env variables [${missing.join(',')}]`,
    );
  if (!SUPPORTED_VERSIONS.includes(version))
    throw new RatifyPluginError(
      PluginErrorCode.VersionNotSupported,
      `plugin doesn't support version ${version}`,
      `supported: ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  if (command !== VERIFY_COMMAND)
    throw new RatifyPluginError(PluginErrorCode.UnknownCommand, `unknown ${ENV.command}: ${command}`);
  return { command, subject, version };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses stdin; each defect is named (Ratify's codes 1 and 2). */
export function parsePluginInput(stdin: string): PluginInput {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (err) {
    throw new RatifyPluginError(
      PluginErrorCode.ConfigParsingFailure,
      `error unmarshall verifier config: ${(err as Error).message}`,
    );
  }
  if (!isObject(raw))
    throw new RatifyPluginError(
      PluginErrorCode.ConfigParsingFailure,
      'error unmarshall verifier config: stdin is not a JSON object',
    );
  const config = raw.config;
  if (!isObject(config) || typeof config.name !== 'string' || config.name === '')
    throw new RatifyPluginError(PluginErrorCode.InvalidVerifierConfig, 'missing verifier name');
  const storeConfig = raw.storeConfig;
  if (!isObject(storeConfig) || !isObject(storeConfig.store) || typeof storeConfig.store.name !== 'string')
    throw new RatifyPluginError(
      PluginErrorCode.ArgsParsingFailure,
      'create store from input config failed: storeConfig.store.name is missing',
    );
  const desc = raw.referenceDesc;
  if (
    !isObject(desc) ||
    typeof desc.digest !== 'string' ||
    !/^sha256:[a-f0-9]{64}$/.test(desc.digest) ||
    typeof desc.mediaType !== 'string' ||
    typeof desc.size !== 'number' ||
    !Number.isSafeInteger(desc.size) ||
    desc.size < 0
  )
    throw new RatifyPluginError(
      PluginErrorCode.ConfigParsingFailure,
      'error unmarshall verifier config: referenceDesc needs mediaType, a sha256 digest and a size',
    );
  return {
    config,
    storeConfig: storeConfig as PluginInput['storeConfig'],
    referenceDesc: {
      mediaType: desc.mediaType,
      digest: desc.digest,
      size: desc.size,
      ...(typeof desc.artifactType === 'string' && desc.artifactType
        ? { artifactType: desc.artifactType }
        : {}),
    },
  };
}
