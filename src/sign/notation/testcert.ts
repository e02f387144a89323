/**
 * Test keys and certificates for Notary Project signing, like `notation cert generate-test`
 * (notation-core-go testhelper: subject `CN=<name>,O=Notary,L=Seattle,ST=WA,C=US`, key usage
 * digitalSignature (critical), EKU codeSigning, no basic constraints — a self-signed leaf that a `ca`
 * store accepts as its own root). The general form also issues CA and leaf chains for tests.
 */
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;

export type TestKeyAlgorithm = 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'ec-p256' | 'ec-p384' | 'ec-p521';

export interface TestCertificateOptions {
  /** Common name; the rest of the subject is notation's test layout. */
  readonly name: string;
  readonly keyAlgorithm?: TestKeyAlgorithm;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** A CA certificate (basicConstraints CA:true critical, keyCertSign). */
  readonly ca?: boolean;
  /** Issuer; self-signed when absent. */
  readonly issuer?: TestCertificate;
  /** Extended key usages (default codeSigning for leaves, none for CAs). */
  readonly extendedKeyUsages?: readonly string[];
  /** Extra key usage flags beyond the defaults (for negative tests). */
  readonly extraKeyUsage?: number;
}

export interface TestCertificate {
  /** PKCS#8 PEM private key. */
  readonly keyPem: string;
  readonly certPem: string;
  readonly der: Uint8Array;
  readonly subject: string;
  readonly keys: CryptoKeyPair;
}

function keyParams(alg: TestKeyAlgorithm): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams {
  if (alg.startsWith('rsa')) {
    return {
      name: 'RSASSA-PKCS1-v1_5',
      hash: 'SHA-256',
      publicExponent: new Uint8Array([1, 0, 1]),
      modulusLength: Number(alg.slice(4)),
    };
  }
  return {
    name: 'ECDSA',
    namedCurve: { 'ec-p256': 'P-256', 'ec-p384': 'P-384', 'ec-p521': 'P-521' }[alg as 'ec-p256'],
  };
}

/** Generates a key pair and a certificate. */
export async function generateTestCertificate(options: TestCertificateOptions): Promise<TestCertificate> {
  const alg = options.keyAlgorithm ?? 'rsa-2048';
  const params = keyParams(alg);
  const keys = (await webcrypto.subtle.generateKey(params, true, [
    'sign',
    'verify',
  ])) as unknown as CryptoKeyPair;
  const subject = `C=US, ST=WA, L=Seattle, O=Notary, CN=${options.name.replace(/([,+"\\<>;=])/g, '\\$1')}`;
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + 365 * 24 * 3600 * 1000);
  const usage = options.ca
    ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
    : x509.KeyUsageFlags.digitalSignature;
  const extensions: x509.Extension[] = [
    new x509.KeyUsagesExtension(usage | (options.extraKeyUsage ?? 0), true),
  ];
  if (options.ca) extensions.push(new x509.BasicConstraintsExtension(true, undefined, true));
  const eku = options.extendedKeyUsages ?? (options.ca ? [] : [x509.ExtendedKeyUsage.codeSigning]);
  if (eku.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension([...eku], false));
  const issuer = options.issuer;
  const signingAlgorithm = issuer ? (issuer.keys.privateKey.algorithm as Algorithm) : (params as Algorithm);
  const hash = alg.endsWith('384')
    ? 'SHA-384'
    : alg.endsWith('521') || alg.endsWith('4096')
      ? 'SHA-512'
      : 'SHA-256';
  const sigAlg = signingAlgorithm.name === 'ECDSA' ? { name: 'ECDSA', hash } : { name: 'RSASSA-PKCS1-v1_5' };
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    subject,
    issuer: issuer ? issuer.subject : subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: issuer ? issuer.keys.privateKey : keys.privateKey,
    signingAlgorithm: sigAlg,
    extensions,
  });
  const pkcs8 = new Uint8Array(
    await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as unknown as webcrypto.CryptoKey),
  );
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  return { keyPem, certPem: `${cert.toString('pem')}\n`, der: new Uint8Array(cert.rawData), subject, keys };
}
