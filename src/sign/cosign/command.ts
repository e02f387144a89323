/**
 * `vouch sign --format cosign`: decrypts cosign.key and pushes a `.sig` tag signature (default),
 * an OCI referrer (`--registry-referrers`) or a sigstore bundle referrer (`--bundle`); with
 * `--keyless`, signs with a Fulcio certificate for an OIDC identity token
 * (`--identity-token-file`, `--identity-token` or `$SIGSTORE_ID_TOKEN`, as cosign reads it) and
 * logs the signature in Rekor. With `--output-signature`, the same signature as a bundle (or
 * `--legacy`: cosign's base64 signature and payload) to write to a file.
 */
import { VouchError } from '../../errors.js';
import type { FormatSigner, SignFlags, SignTarget } from '../../formats/types.js';
import { readRequired } from '../flags.js';
import { createCosignSignature, decryptCosignKey, pushCosignSignature, signCosign } from './index.js';
import { readCosignPassword } from './password.js';

const DEFAULT_FULCIO = 'https://fulcio.sigstore.dev';
const DEFAULT_REKOR = 'https://rekor.sigstore.dev';

/** The OIDC identity token of `--keyless`: the file, the flag, else $SIGSTORE_ID_TOKEN. */
async function readIdentityToken(flags: SignFlags): Promise<string> {
  const token = flags.identityTokenFile
    ? await readRequired(flags.identityTokenFile, '--identity-token-file')
    : (flags.identityToken ?? process.env.SIGSTORE_ID_TOKEN);
  if (!token?.trim()) {
    throw new VouchError(
      'USAGE',
      '--keyless needs an OIDC identity token: --identity-token-file, --identity-token or $SIGSTORE_ID_TOKEN',
    );
  }
  return token.trim();
}

/** The decrypted PEM private key of `--key` (cosign.key), with `--password-file` or $COSIGN_PASSWORD. */
async function privateKey(flags: SignFlags): Promise<string> {
  const keyFile = await readRequired(flags.key, '--key');
  return decryptCosignKey(keyFile, await readCosignPassword(flags.passwordFile));
}

async function keylessOptions(t: SignTarget, flags: SignFlags) {
  return {
    subject: t.subject,
    subjectReference: t.name,
    identityToken: await readIdentityToken(flags),
    fulcioUrl: flags.fulcioUrl ?? DEFAULT_FULCIO,
    rekorUrl: flags.rekorUrl ?? DEFAULT_REKOR,
    ...(flags.tsaUrl ? { tsaUrl: flags.tsaUrl } : {}),
    signal: t.signal,
  };
}

export const cosignSigner: FormatSigner = {
  async sign(t, flags) {
    const mode = flags.bundle ? 'bundle' : flags.registryReferrers ? 'referrer' : 'tag';
    if (flags.keyless) {
      if (flags.key) throw new VouchError('USAGE', '--keyless and --key exclude each other');
      const { signCosignKeyless } = await import('./keyless.js');
      const { descriptor } = await signCosignKeyless({
        repository: t.repository,
        ...(await keylessOptions(t, flags)),
        mode,
      });
      return descriptor;
    }
    return signCosign({
      repository: t.repository,
      subject: t.subject,
      subjectReference: t.name,
      privateKeyPem: await privateKey(flags),
      mode,
      signal: t.signal,
    });
  },

  async signature(t, flags) {
    const form = flags.legacy ? 'simple-signing' : 'bundle';
    if (flags.keyless) {
      if (flags.key) throw new VouchError('USAGE', '--keyless and --key exclude each other');
      if (flags.legacy)
        throw new VouchError(
          'USAGE',
          '--legacy cannot hold a keyless signature (its certificate and Rekor entry): write a bundle',
        );
      const { createCosignKeylessSignature } = await import('./keyless.js');
      const made = await createCosignKeylessSignature({ ...(await keylessOptions(t, flags)), form });
      return made.signature;
    }
    const privateKeyPem = await privateKey(flags);
    return createCosignSignature({ subject: t.subject, subjectReference: t.name, privateKeyPem, form });
  },

  upload(t, flags, signature) {
    return pushCosignSignature(
      t.repository,
      t.subject,
      signature,
      flags.registryReferrers ? 'referrer' : 'tag',
      t.signal,
    );
  },
};
