/**
 * A small Docker registry token issuer (distribution `docs/spec/auth/token.md` and `jwt.md`) on
 * loopback, for running the real registry in its `auth: token` mode.
 *
 * It signs ES256 JWTs with a P-256 key and certificate made by `openssl req -x509` (apt openssl);
 * it signs ES256 JWTs whose header carries `x5c` (the issuer's self-signed certificate). The
 * registry (distribution 2.8 `registry/auth/token/token.go`, VerifySigningKey) verifies an `x5c`
 * chain against its `rootcertbundle`, then checks the signature, `iss`, `aud` (= service),
 * `nbf`/`exp`, and the `access` claim against the requested repository and actions.
 */
import { createPrivateKey, randomUUID, sign as signBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSelfSignedCert } from './self-signed.js';

export interface TokenIssuerOptions {
  /** Users allowed to authenticate with basic auth at the token endpoint; without it, anonymous tokens. */
  readonly users?: Readonly<Record<string, string>>;
  /** OAuth2 refresh tokens (docker `identitytoken`) accepted by POST grant_type=refresh_token, mapped to users. */
  readonly refreshTokens?: Readonly<Record<string, string>>;
  /** Token lifetime in seconds (default 300). */
  readonly expiresIn?: number;
  /** Which actions to grant for a requested scope (default: everything requested). */
  readonly grant?: (
    scope: { type: string; name: string; actions: string[] },
    user: string | undefined,
  ) => string[];
}

export interface TokenRequestRecord {
  readonly user: string | undefined;
  readonly service: string | null;
  readonly scopes: string[];
  readonly status: number;
  readonly method: string;
}

export interface TokenIssuer {
  /** Token endpoint URL (the registry's `realm`). */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** PEM file holding the issuer's certificate (the registry's `rootcertbundle`). */
  readonly certPath: string;
  /** Every request the issuer answered, in order. */
  readonly requests: TokenRequestRecord[];
  stop(): Promise<void>;
}

function b64url(data: Uint8Array | string): string {
  return Buffer.from(data).toString('base64url');
}

/** Starts the issuer on 127.0.0.1 with a fresh ES256 key and self-signed certificate. */
export async function startTokenIssuer(options: TokenIssuerOptions = {}): Promise<TokenIssuer> {
  const service = 'vouch-test-registry';
  const issuer = 'vouch-test-token-issuer';
  const dir = await mkdtemp(join(tmpdir(), 'vouch-token-issuer-'));
  const certPath = join(dir, 'issuer.pem');
  const keyPath = join(dir, 'issuer.key');
  writeSelfSignedCert(keyPath, certPath, 'vouch test token issuer');
  const privateKey = createPrivateKey(await readFile(keyPath));
  const x5c = [new X509Certificate(await readFile(certPath)).raw.toString('base64')];
  const requests: TokenRequestRecord[] = [];
  const expiresIn = options.expiresIn ?? 300;

  async function sign(claims: Record<string, unknown>): Promise<string> {
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c }));
    const payload = b64url(JSON.stringify(claims));
    const input = `${header}.${payload}`;
    const sig = signBytes('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(sig)}`;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    if (method === 'POST') {
      // OAuth2 form (distribution docs/spec/auth/oauth.md): parameters come in the body
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8')))
        url.searchParams.append(k, v);
    }
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ').filter(Boolean));
    let user: string | undefined;
    const authz = req.headers.authorization;
    const refreshUser =
      method === 'POST' && url.searchParams.get('grant_type') === 'refresh_token'
        ? options.refreshTokens?.[url.searchParams.get('refresh_token') ?? '']
        : undefined;
    if (refreshUser !== undefined) {
      user = refreshUser;
    } else if (options.users) {
      const decoded = authz?.startsWith('Basic ')
        ? Buffer.from(authz.slice(6), 'base64').toString()
        : undefined;
      const colon = decoded?.indexOf(':') ?? -1;
      const name = decoded && colon > 0 ? decoded.slice(0, colon) : undefined;
      if (!name || !decoded || options.users[name] !== decoded.slice(colon + 1)) {
        requests.push({ user: name, service: url.searchParams.get('service'), scopes, status: 401, method });
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
        return;
      }
      user = name;
    }
    const access = scopes.map((s) => {
      const [type = '', ...rest] = s.split(':');
      const actions = (rest.pop() ?? '').split(',').filter(Boolean);
      const scope = { type, name: rest.join(':'), actions };
      return { type, name: scope.name, actions: options.grant ? options.grant(scope, user) : actions };
    });
    const iat = Math.floor(Date.now() / 1000);
    const token = await sign({
      iss: issuer,
      sub: user ?? '',
      aud: service,
      exp: iat + expiresIn,
      nbf: iat - 10,
      iat,
      jti: randomUUID(),
      access,
    });
    requests.push({ user, service: url.searchParams.get('service'), scopes, status: 200, method });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: expiresIn,
        issued_at: new Date().toISOString(),
      }),
    );
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
