/**
 * A throwaway self-signed certificate for loopback test servers: an ECDSA P-256 key and a
 * certificate valid for one day, written as PEM by the openssl CLI (installed on every machine
 * that runs the tests; see scripts/test.sh).
 */
import { execFileSync } from 'node:child_process';

/** Writes `keyPath` (unencrypted PKCS#8) and `certPath` for subject `/CN=<commonName>`. */
export function writeSelfSignedCert(keyPath: string, certPath: string, commonName: string): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
    ],
    { stdio: 'ignore', timeout: 20_000 },
  );
}
