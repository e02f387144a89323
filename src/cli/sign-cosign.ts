/**
 * The `--format cosign` branch of `vouch sign`: decrypts cosign.key and pushes a `.sig` tag
 * signature (default), an OCI referrer (`--registry-referrers`) or a sigstore bundle referrer
 * (`--bundle`).
 */
import type { Descriptor } from '../registry/types.js';
import { decryptCosignKey, signCosign } from '../sign/cosign/index.js';
import { readCosignPassword } from './keygen.js';
import { readRequired, type SignOptions, type SignTarget } from './sign.js';

export async function runCosignSign(target: SignTarget, opts: SignOptions): Promise<Descriptor> {
  const keyFile = await readRequired(opts.key, '--key');
  const password = await readCosignPassword(opts.passwordFile);
  const privateKeyPem = decryptCosignKey(keyFile, password);
  return signCosign({
    repository: target.repository,
    subject: target.subject,
    subjectReference: target.name,
    privateKeyPem,
    mode: opts.bundle ? 'bundle' : opts.registryReferrers ? 'referrer' : 'tag',
    signal: target.signal,
  });
}
