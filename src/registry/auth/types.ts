/**
 * Credentials for registries. A CredentialStore answers "what credential do I present to this
 * host?"; it never logs, caches to disk, or shares what it returns (ARCHITECTURE: credentials stay
 * in the process that uses them).
 */

/** Username and password (HTTP basic, or the token endpoint's basic auth). */
export interface BasicCredential {
  readonly username: string;
  readonly password: string;
}

/** An OAuth2 refresh token (docker config `identitytoken`), exchanged at the token endpoint. */
export interface IdentityTokenCredential {
  readonly identityToken: string;
}

export type Credential = BasicCredential | IdentityTokenCredential;

/** Looks up the credential for a registry host (`host[:port]`, as in the image reference). */
export interface CredentialStore {
  get(host: string): Promise<Credential | undefined>;
}

/** True for an identity-token credential. */
export function isIdentityToken(c: Credential): c is IdentityTokenCredential {
  return 'identityToken' in c;
}
