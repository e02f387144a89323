import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateTestCertificate } from '../../../src/sign/notation/testcert.js';

describe('vouch cert generate-test certificates', () => {
  it('write one RDN per attribute, like notation and openssl (not one multi-valued RDN)', async () => {
    const cert = await generateTestCertificate({ name: 'rdn.test', keyAlgorithm: 'ec-p256' });
    const x = new X509Certificate(cert.certPem);
    assert.deepEqual(x.subject.split('\n'), ['C=US', 'ST=WA', 'L=Seattle', 'O=Notary', 'CN=rdn.test']);
    assert.equal(x.issuer, x.subject, 'self-signed');
    assert.equal(cert.subject.typesAndValues.length, 5);
  });
});
