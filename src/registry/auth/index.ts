/** Registry credentials: docker config.json, credential helpers, explicit credentials, chains. */

export type { DockerConfigOptions } from './docker-config.js';
export { DockerConfigCredentialStore, dockerConfigPath, loadDockerConfig } from './docker-config.js';
export { runCredentialHelper } from './helper.js';
export { ChainCredentialStore, normalizeHost, StaticCredentialStore } from './static.js';
export type { BasicCredential, Credential, CredentialStore, IdentityTokenCredential } from './types.js';
export { isIdentityToken } from './types.js';
