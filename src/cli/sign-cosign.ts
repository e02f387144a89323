/**
 * The `--format cosign` branch of `vouch sign`: decrypts cosign.key and pushes a `.sig` tag
 * signature (default), an OCI referrer (`--registry-referrers`) or a sigstore bundle referrer
 * (`--bundle`); with `--keyless`, signs with a Fulcio certificate for an OIDC identity token
 * (`--identity-token-file`, `--identity-token` or `$SIGSTORE_ID_TOKEN`, as cosign reads it) and
 * logs the signature in Rekor.
 */
import { VouchError } from '../errors.js';
import type { Descriptor } from '../registry/types.js';
import { decryptCosignKey, signCosign } from '../sign/cosign/index.js';
import { signCosignKeyless } from '../sign/cosign/keyless.js';
import { readCosignPassword } from './keygen.js';
import { readRequired, type SignOptions, type SignTarget } from './sign.js';

export async function runCosignSign(target: SignTarget, opts: SignOptions): Promise<Descriptor> {
  const mode = opts.bundle ? 'bundle' : opts.registryReferrers ? 'referrer' : 'tag';
  if (opts.keyless) {
    if (opts.key) throw new VouchError('USAGE', '--keyless and --key exclude each other');
    const { descriptor } = await signCosignKeyless({
      repository: target.repository,
      subject: target.subject,
      subjectReference: target.name,
      identityToken: await readIdentityToken(opts),
      fulcioUrl: opts.fulcioUrl ?? 'https://fulcio.sigstore.dev',
      rekorUrl: opts.rekorUrl ?? 'https://rekor.sigstore.dev',
      ...(opts.tsaUrl ? { tsaUrl: opts.tsaUrl } : {}),
      mode,
      signal: target.signal,
    });
    return descriptor;
  }
  const keyFile = await readRequired(opts.key, '--key');
  const password = await readCosignPassword(opts.passwordFile);
  const privateKeyPem = decryptCosignKey(keyFile, password);
  return signCosign({
    repository: target.repository,
    subject: target.subject,
    subjectReference: target.name,
    privateKeyPem,
    mode,
    signal: target.signal,
  });
}

export async function readIdentityToken(opts: SignOptions): Promise<string> {
  const token = opts.identityTokenFile
    ? await readRequired(opts.identityTokenFile, '--identity-token-file')
    : (opts.identityToken ?? process.env.SIGSTORE_ID_TOKEN);
  if (!token?.trim()) {
    throw new VouchError(
      'USAGE',
      '--keyless needs an OIDC identity token: --identity-token-file, --identity-token or $SIGSTORE_ID_TOKEN',
    );
  }
  return token.trim();
}
