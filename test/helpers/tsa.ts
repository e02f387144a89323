/**
 * A real RFC 3161 timestamp authority on loopback for tests: an HTTP server that answers each
 * `application/timestamp-query` POST with the reply `openssl ts -reply` produces (OpenSSL's own TSA
 * implementation, RFC 3161 + ESS signing-certificate-v2). The TSA's root CA and its timestamping
 * certificate (EKU timeStamping, critical) are generated with `openssl` into a temporary directory.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openssl, selfSignedArgs } from './openssl.js';

const MAX_QUERY_BYTES = 64 * 1024;

export interface StartTsaOptions {
  /**
   * Message imprint digests the TSA accepts (openssl `digests`); a query with another digest gets a
   * `rejection` reply (PKIStatus 2, badAlg). Default sha256, sha384, sha512.
   */
  readonly digests?: readonly string[];
  /** Days the TSA certificate is valid (default 2). */
  readonly days?: number;
}

export interface TestTsa {
  /** `http://127.0.0.1:PORT/` — POST timestamp queries here. */
  readonly url: string;
  /** PEM of the TSA root CA (what a `tsa` trust store holds). */
  readonly rootPem: string;
  /** PEM of the TSA's timestamping certificate. */
  readonly tsaCertPem: string;
  /** Directory with ca.crt / tsa.crt (removed by stop). */
  readonly dir: string;
  /** Number of queries answered. */
  requests(): number;
  stop(): Promise<void>;
}

function tsaConfig(dir: string, digests: readonly string[]): string {
  return `[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = ${dir}
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/ca.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5.6
digests = ${digests.join(', ')}
accuracy = secs:1, millisecs:0, microsecs:0
clock_precision_digits = 0
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`;
}

/** Generates the TSA PKI and starts the HTTP front end on 127.0.0.1. */
export async function startTsa(options: StartTsaOptions = {}): Promise<TestTsa> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-tsa-'));
  const days = String(options.days ?? 2);
  await writeFile(
    join(dir, 'tsa-ext.cnf'),
    'basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = critical, timeStamping\nsubjectKeyIdentifier = hash\n',
  );
  await openssl(
    selfSignedArgs({
      key: 'rsa:2048',
      keyOut: 'ca.key',
      certOut: 'ca.crt',
      subject: '/C=US/O=vouch test/CN=vouch test TSA root',
      days,
      extensions: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'],
    }),
    dir,
  );
  await openssl(
    [
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'tsa.key',
      '-out',
      'tsa.csr',
      '-subj',
      '/C=US/O=vouch test/CN=vouch test TSA',
    ],
    dir,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      'tsa.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'tsa.crt',
      '-days',
      days,
      '-sha256',
      '-extfile',
      'tsa-ext.cnf',
    ],
    dir,
  );
  await writeFile(join(dir, 'tsaserial'), '01\n');
  await writeFile(join(dir, 'tsa.cnf'), tsaConfig(dir, options.digests ?? ['sha256', 'sha384', 'sha512']));
  const rootPem = await readFile(join(dir, 'ca.crt'), 'utf8');
  const tsaCertPem = await readFile(join(dir, 'tsa.crt'), 'utf8');

  let answered = 0;
  let queue: Promise<unknown> = Promise.resolve();
  /** One `openssl ts -reply` at a time: the serial file is not safe for concurrent writers. */
  const reply = (query: Buffer): Promise<Buffer> => {
    const run = queue.then(async () => {
      const n = ++answered;
      const q = join(dir, `q${n}.tsq`);
      const r = join(dir, `r${n}.tsr`);
      await writeFile(q, query);
      await openssl(['ts', '-reply', '-config', 'tsa.cnf', '-queryfile', q, '-out', r], dir);
      return readFile(r);
    });
    queue = run.catch(() => undefined);
    return run;
  };

  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST' || req.headers['content-type'] !== 'application/timestamp-query') {
      res.writeHead(req.method === 'POST' ? 415 : 405).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_QUERY_BYTES) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      reply(Buffer.concat(chunks)).then(
        (body) => res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(body),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(err.message),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    rootPem,
    tsaCertPem,
    dir,
    requests: () => answered,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
