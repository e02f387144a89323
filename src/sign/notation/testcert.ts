/**
 * Test keys and certificates for Notary Project signing, like `notation cert generate-test`
 * (notation-core-go testhelper: subject `CN=<name>,O=Notary,L=Seattle,ST=WA,C=US`, key usage
 * digitalSignature (critical), EKU codeSigning, no basic constraints — a self-signed leaf that a `ca`
 * store accepts as its own root). The general form also issues CA and leaf chains for tests.
 */
import { webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

type CryptoKeyPair = webcrypto.CryptoKeyPair;

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
}

export interface TestCertificate {
  /** PKCS#8 PEM private key. */
  readonly keyPem: string;
  readonly certPem: string;
  readonly der: Uint8Array;
  readonly subject: pkijs.RelativeDistinguishedNames;
  readonly keys: CryptoKeyPair;
  readonly hash: 'SHA-256' | 'SHA-384' | 'SHA-512';
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

function subjectName(cn: string): pkijs.RelativeDistinguishedNames {
  const attr = (type: string, value: string, printable = false) =>
    new pkijs.AttributeTypeAndValue({
      type,
      value: printable ? new asn1js.PrintableString({ value }) : new asn1js.Utf8String({ value }),
    });
  const attributes = [
    attr('2.5.4.6', 'US', true),
    attr('2.5.4.8', 'WA'),
    attr('2.5.4.7', 'Seattle'),
    attr('2.5.4.10', 'Notary'),
    attr('2.5.4.3', cn),
  ];
  // one RDN (SET) per attribute, as notation and openssl write it: pkijs would put them all in one
  // multi-valued RDN (`CN=…+O=…+…`), which is a different name to DN matching
  const name = new asn1js.Sequence({
    value: attributes.map((a) => new asn1js.Set({ value: [a.toSchema()] })),
  });
  return pkijs.RelativeDistinguishedNames.fromBER(name.toBER(false));
}

const pem = (label: string, der: ArrayBuffer | Uint8Array) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der))
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END ${label}-----\n`;

/** Generates a key pair and a certificate. */
export async function generateTestCertificate(options: TestCertificateOptions): Promise<TestCertificate> {
  const alg = options.keyAlgorithm ?? 'rsa-2048';
  const keys = (await webcrypto.subtle.generateKey(keyParams(alg), true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const hash =
    alg.endsWith('384') || alg === 'rsa-3072'
      ? 'SHA-384'
      : alg.endsWith('521') || alg.endsWith('4096')
        ? 'SHA-512'
        : 'SHA-256';
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + 365 * 24 * 3600 * 1000);
  const cert = new pkijs.Certificate();
  cert.version = 2;
  const serial = webcrypto.getRandomValues(new Uint8Array(16));
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01;
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  const subject = subjectName(options.name);
  cert.subject = subject;
  cert.issuer = options.issuer ? options.issuer.subject : subject;
  cert.notBefore.value = notBefore;
  cert.notAfter.value = notAfter;
  // KeyUsage BIT STRING: digitalSignature (bit 0) for leaves; keyCertSign (5) + cRLSign (6) for CAs.
  const usage = options.ca ? new Uint8Array([0x06]) : new Uint8Array([0x80]);
  const keyUsage = new asn1js.BitString({ valueHex: usage, unusedBits: options.ca ? 1 : 7 });
  cert.extensions = [
    new pkijs.Extension({ extnID: '2.5.29.15', critical: true, extnValue: keyUsage.toBER(false) }),
  ];
  if (options.ca) {
    cert.extensions.push(
      new pkijs.Extension({
        extnID: '2.5.29.19',
        critical: true,
        extnValue: new pkijs.BasicConstraints({ cA: true }).toSchema().toBER(false),
      }),
    );
  }
  const eku = options.extendedKeyUsages ?? (options.ca ? [] : ['1.3.6.1.5.5.7.3.3']);
  if (eku.length > 0) {
    cert.extensions.push(
      new pkijs.Extension({
        extnID: '2.5.29.37',
        critical: false,
        extnValue: new pkijs.ExtKeyUsage({ keyPurposes: [...eku] }).toSchema().toBER(false),
      }),
    );
  }
  await cert.subjectPublicKeyInfo.importKey(
    keys.publicKey as unknown as Parameters<pkijs.PublicKeyInfo['importKey']>[0],
  );
  const signer = options.issuer ?? { keys, hash };
  await cert.sign(signer.keys.privateKey as unknown as Parameters<pkijs.Certificate['sign']>[0], signer.hash);
  const der = new Uint8Array(cert.toSchema(true).toBER(false));
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keyPem: pem('PRIVATE KEY', pkcs8), certPem: pem('CERTIFICATE', der), der, subject, keys, hash };
}
