/**
 * Real revocation services on loopback for tests: a certificate authority run with `openssl ca`
 * (its index.txt is the revocation database), an OCSP responder run with `openssl ocsp` over that
 * index, and a CRL from `openssl ca -gencrl` served over loopback HTTP. Leaf certificates are Notary
 * Project code-signing certificates whose AIA (OCSP) and CRL distribution points name these services.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openssl, selfSignedArgs } from './openssl.js';

/** A loopback port that is free now (bound, then released) — for services whose URL goes into a certificate first. */
export async function freePort(): Promise<number> {
  const srv = createTcpServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export interface IssuedCertificate {
  readonly name: string;
  readonly keyPem: string;
  /** Leaf then root (what `--cert` takes). */
  readonly chainPem: string;
  readonly certPath: string;
}

export interface TestCa {
  readonly dir: string;
  readonly rootPem: string;
  /** Issues a code-signing leaf; `ocspUrl` goes into AIA, `crlUrl` into the CRL distribution points. */
  issue(name: string, urls: { ocspUrl?: string; crlUrl?: string }): Promise<IssuedCertificate>;
  /** Marks the certificate revoked in index.txt (keyCompromise). */
  revoke(cert: IssuedCertificate): Promise<void>;
  /** A fresh CRL (DER) listing every revoked certificate. */
  crl(): Promise<Uint8Array>;
  remove(): Promise<void>;
}

const caConfig = (dir: string) => `[ ca ]
default_ca = CA_default

[ CA_default ]
dir = ${dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.crt
private_key = $dir/ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_days = 2
default_crl_days = 2
policy = policy_any
unique_subject = no
copy_extensions = none

[ policy_any ]
commonName = supplied
organizationName = optional
stateOrProvinceName = optional
countryName = optional
localityName = optional
`;

/** Creates a root CA (basicConstraints CA critical, keyCertSign + cRLSign + digitalSignature for OCSP). */
export async function createTestCa(): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-ca-'));
  await mkdir(join(dir, 'newcerts'));
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'serial'), '1000\n');
  await writeFile(join(dir, 'crlnumber'), '01\n');
  await writeFile(join(dir, 'ca.cnf'), caConfig(dir));
  await openssl(
    selfSignedArgs({
      key: 'rsa:2048',
      keyOut: 'ca.key',
      certOut: 'ca.crt',
      subject: '/C=US/ST=WA/O=Notary/CN=vouch revocation test root',
      days: 2,
      extensions: [
        'basicConstraints=critical,CA:TRUE',
        'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      ],
    }),
    dir,
  );
  const rootPem = await readFile(join(dir, 'ca.crt'), 'utf8');
  return {
    dir,
    rootPem,
    async issue(name, urls) {
      const ext = [
        '[ leaf ]',
        'keyUsage = critical, digitalSignature',
        'extendedKeyUsage = codeSigning',
        ...(urls.ocspUrl ? [`authorityInfoAccess = OCSP;URI:${urls.ocspUrl}`] : []),
        ...(urls.crlUrl ? [`crlDistributionPoints = URI:${urls.crlUrl}`] : []),
      ].join('\n');
      await writeFile(join(dir, `${name}.ext`), `${ext}\n`);
      await openssl(
        [
          'req',
          '-new',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          `${name}.key`,
          '-out',
          `${name}.csr`,
          '-subj',
          `/C=US/ST=WA/O=Notary/CN=${name}`,
        ],
        dir,
      );
      await openssl(
        [
          'ca',
          '-batch',
          '-config',
          'ca.cnf',
          '-in',
          `${name}.csr`,
          '-out',
          `${name}.crt`,
          '-extfile',
          `${name}.ext`,
          '-extensions',
          'leaf',
          '-notext',
          // An hour back: a timestamp's accuracy (1 s at the test TSA) may place a signature made in
          // the certificate's first second before notBefore, which notation rightly refuses.
          '-startdate',
          opensslTime(new Date(Date.now() - 3_600_000)),
        ],
        dir,
      );
      const certPem = await readFile(join(dir, `${name}.crt`), 'utf8');
      return {
        name,
        keyPem: await readFile(join(dir, `${name}.key`), 'utf8'),
        chainPem: certPem + rootPem,
        certPath: join(dir, `${name}.crt`),
      };
    },
    async revoke(cert) {
      await openssl(
        ['ca', '-config', 'ca.cnf', '-revoke', cert.certPath, '-crl_reason', 'keyCompromise'],
        dir,
      );
    },
    async crl() {
      await openssl(['ca', '-config', 'ca.cnf', '-gencrl', '-out', 'ca.crl.pem'], dir);
      await openssl(['crl', '-in', 'ca.crl.pem', '-outform', 'DER', '-out', 'ca.crl'], dir);
      return new Uint8Array(await readFile(join(dir, 'ca.crl')));
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface RunningService {
  readonly url: string;
  stop(): Promise<void>;
}

export interface CountingService extends RunningService {
  /** Requests (CRL server) or connections (fault server) seen so far. */
  count(): number;
}

/**
 * Starts `openssl ocsp` on `port` over the CA's index.txt (responses signed by the CA itself).
 * Start it after the index is final: the responder re-reads index.txt only when its mtime changes.
 */
export async function startOcspResponder(
  ca: TestCa,
  port: number,
): Promise<RunningService & { log(): string }> {
  const child: ChildProcess = spawn(
    process.env.VOUCH_TEST_OPENSSL_BIN ?? 'openssl',
    [
      'ocsp',
      '-index',
      'index.txt',
      '-port',
      String(port),
      '-rsigner',
      'ca.crt',
      '-rkey',
      'ca.key',
      '-CA',
      'ca.crt',
      '-ignore_err',
    ],
    { cwd: ca.dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const onData = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`openssl ocsp did not start:\n${log}`)), 10_000);
    const check = () => {
      if (/ACCEPT/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`openssl ocsp exited with ${code}:\n${log}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    url: `http://127.0.0.1:${port}/`,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Serves `crl()` at `/ca.crl` over loopback HTTP (a static file server). */
export async function startCrlServer(crl: () => Uint8Array): Promise<CountingService> {
  let requests = 0;
  const server: Server = createHttpServer((req, res) => {
    requests++;
    if (req.method !== 'GET' || req.url !== '/ca.crl') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crl());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/ca.crl`,
    count: () => requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Fault server: accepts TCP connections and never answers (a responder that hangs, which a real
 * OCSP responder cannot be made to do on demand). Counts connections, to prove when none was made.
 */
export async function startBlackhole(): Promise<CountingService> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    count: () => connections,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `openssl ca -startdate` form: YYMMDDHHMMSSZ, in UTC. */
function opensslTime(at: Date): string {
  return `${at.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`;
}
