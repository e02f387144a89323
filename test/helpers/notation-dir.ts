/**
 * A notation config dir that trusts one certificate for every repository:
 * `trustpolicy.json` (one strict statement, scope `*`, any identity) and
 * `truststore/x509/ca/<store>/<store>.crt`. For benchmarks and tests that need a working trust
 * policy, not a particular one.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function writeNotationDir(dir: string, certPem: string, store = 'bench'): Promise<string> {
  await mkdir(path.join(dir, 'truststore/x509/ca', store), { recursive: true });
  await writeFile(path.join(dir, 'truststore/x509/ca', store, `${store}.crt`), certPem);
  const policy = {
    version: '1.0',
    trustPolicies: [
      {
        name: 'all',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: [`ca:${store}`],
        trustedIdentities: ['*'],
      },
    ],
  };
  await writeFile(path.join(dir, 'trustpolicy.json'), JSON.stringify(policy));
  return dir;
}

/**
 * The same trust, inline in vouch.yaml (`verifiers.notation`): one strict statement for every
 * repository and identity, the CA `caFile` (relative to the config's folder) in store `store`.
 */
export function trustAllNotationConfig(store: string, caFile = 'ca.crt') {
  return {
    trustPolicy: {
      version: '1.0' as const,
      trustPolicies: [
        {
          name: store,
          registryScopes: ['*'],
          signatureVerification: { level: 'strict' as const },
          trustStores: [`ca:${store}`],
          trustedIdentities: ['*'],
        },
      ],
    },
    trustStores: { ca: { [store]: [caFile] } },
  };
}
