/**
 * A throwaway self-signed certificate for loopback test servers: an ECDSA P-256 key and a
 * certificate valid for one day, written as PEM by the openssl CLI (installed on every machine
 * that runs the tests; see scripts/test.sh).
 */
import { execFileSync } from 'node:child_process';
import { selfSignedArgs } from './openssl.js';

/** Writes `keyPath` (unencrypted PKCS#8) and `certPath` for subject `/CN=<commonName>`. */
export function writeSelfSignedCert(keyPath: string, certPath: string, commonName: string): void {
  execFileSync(
    'openssl',
    selfSignedArgs({ key: 'ec', keyOut: keyPath, certOut: certPath, subject: `/CN=${commonName}`, days: 1 }),
    { stdio: 'ignore', timeout: 20_000 },
  );
}
