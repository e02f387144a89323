/**
 * Signs the example images `app` and `web` in examples/layout, and the SBOM and SARIF report
 * attached to each, with the Notary Project signer (JWS), and writes the notation config dir the
 * demo verifies with: examples/notation/trustpolicy.json and truststore/x509/ca/example/example.crt.
 * The private key is generated here and thrown away: the committed layout carries only the
 * signatures and the certificate (valid until 2046). `base` stays unsigned. With
 * examples/vouch.yaml the demo allows `app`, denies `web` (a critical CVE in its signed report)
 * and `base` (unsigned).
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
// The images the demo allows or denies on content, and the SBOM and report attached to each:
// a report counts only when it is signed itself (verified against the report's digest).
const signed: string[] = [];
for (const tag of ['app', 'web']) {
  const image = await repository.resolve(tag);
  const documents = (await repository.referrers(image)).filter(
    (d) => d.artifactType === 'application/spdx+json' || d.artifactType === 'application/sarif+json',
  );
  for (const subject of [image, ...documents]) {
    const signature = await signNotation({
      repository,
      subject,
      keyPem: cert.keyPem,
      certChainPem: cert.certPem,
      envelope: 'jws',
    });
    signed.push(`${tag} ${subject.artifactType ?? 'image'} ${subject.digest}: signature ${signature.digest}`);
  }
}
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
for (const line of signed) console.log(line);
