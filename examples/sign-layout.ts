/**
 * Signs the example image `app` in examples/layout with the Notary Project signer (JWS), and writes
 * the notation config dir the demo verifies with: examples/notation/trustpolicy.json and
 * truststore/x509/ca/example/example.crt. The private key is generated here and thrown away: the
 * committed layout carries only the signature and the certificate (valid until 2046).
 * `base` stays unsigned, so the demo shows one allowed and one denied image.
 *
 *   node --import tsx examples/make-layout.ts && node --import tsx examples/sign-layout.ts
 *
 * Not deterministic (the signature carries its signing time): rerun only to replace the signature.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLayoutRepository } from '../src/registry/layout/index.js';
import { signNotation } from '../src/sign/notation/index.js';
import { generateTestCertificate } from '../src/sign/notation/testcert.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const repository = openLayoutRepository({ kind: 'layout', dir: join(HERE, 'layout') });
const cert = await generateTestCertificate({
  name: 'example.vouch.dev',
  keyAlgorithm: 'ec-p256',
  notBefore: new Date('2024-01-01T00:00:00Z'),
  notAfter: new Date('2046-01-01T00:00:00Z'),
});
const subject = await repository.resolve('app');
const signature = await signNotation({
  repository,
  subject,
  keyPem: cert.keyPem,
  certChainPem: cert.certPem,
  envelope: 'jws',
});
const notationDir = join(HERE, 'notation');
await mkdir(join(notationDir, 'truststore/x509/ca/example'), { recursive: true });
await writeFile(join(notationDir, 'truststore/x509/ca/example/example.crt'), cert.certPem);
await writeFile(
  join(notationDir, 'trustpolicy.json'),
  `${JSON.stringify(
    {
      version: '1.0',
      trustPolicies: [
        {
          name: 'examples',
          registryScopes: ['*'],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:example'],
          trustedIdentities: ['*'],
        },
      ],
    },
    null,
    2,
  )}\n`,
);
console.log(`signed app ${subject.digest}: signature ${signature.digest}`);
