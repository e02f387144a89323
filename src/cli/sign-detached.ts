/**
 * `vouch sign --output-signature PATH`: the signature is written to files (src/detached/format.ts
 * says which) and the registry is not written to, unless `--upload-signatures` also attaches the
 * same signature to the image as `vouch sign` would (a bundle or notation referrer; a `--legacy`
 * signature on the `.sig` tag, or as a referrer with `--registry-referrers`).
 */
import { encodeDetachedSignature, writeDetachedFiles } from '../detached/index.js';
import { VouchError } from '../errors.js';
import { attachArtifact } from '../referrers/attach.js';
import type { Descriptor } from '../registry/types.js';
import type { SignatureArtifact } from '../sign/signature-artifact.js';
import { readCosignPassword } from './keygen.js';
import { readRequired, type SignOptions, type SignTarget } from './sign.js';

export interface DetachedSignResult {
  /** The files written. */
  readonly files: readonly string[];
  /** The pushed signature, with `--upload-signatures`. */
  readonly uploaded?: Descriptor;
}

export async function runDetachedSign(
  opts: SignOptions,
  target: SignTarget,
  path: string,
): Promise<DetachedSignResult> {
  if (opts.format !== 'cosign' && opts.format !== 'notation')
    throw new VouchError(
      'USAGE',
      `--output-signature is for --format cosign or notation, not ${opts.format}`,
    );
  if (opts.legacy && opts.format !== 'cosign')
    throw new VouchError('USAGE', '--legacy is for --format cosign');
  if (opts.legacy && opts.bundle) throw new VouchError('USAGE', '--legacy and --bundle exclude each other');
  const signature =
    opts.format === 'notation' ? await notationSignature(opts, target) : await cosignSignature(opts, target);
  const files = encodeDetachedSignature(path, signature, target.subject);
  await writeDetachedFiles(files);
  if (!opts.uploadSignatures) return { files: files.map((f) => f.path) };
  return { files: files.map((f) => f.path), uploaded: await upload(opts, target, signature) };
}

async function notationSignature(opts: SignOptions, t: SignTarget): Promise<SignatureArtifact> {
  const { createNotationSignature } = await import('../sign/notation/index.js');
  const envelope = opts.envelope;
  if (envelope !== 'jws' && envelope !== 'cose')
    throw new VouchError('USAGE', `--envelope must be jws or cose, not "${envelope}"`);
  return createNotationSignature({
    subject: t.subject,
    keyPem: await readRequired(opts.key, '--key'),
    certChainPem: await readRequired(opts.cert, '--cert'),
    envelope,
    ...(opts.timestampUrl ? { timestampUrl: opts.timestampUrl } : {}),
    signal: t.signal,
  });
}

async function cosignSignature(opts: SignOptions, t: SignTarget): Promise<SignatureArtifact> {
  const form = opts.legacy ? 'simple-signing' : 'bundle';
  if (opts.keyless) {
    if (opts.key) throw new VouchError('USAGE', '--keyless and --key exclude each other');
    if (opts.legacy)
      throw new VouchError(
        'USAGE',
        '--legacy cannot hold a keyless signature (its certificate and Rekor entry): write a bundle',
      );
    const { createCosignKeylessSignature } = await import('../sign/cosign/keyless.js');
    const { readIdentityToken } = await import('./sign-cosign.js');
    const made = await createCosignKeylessSignature({
      subject: t.subject,
      subjectReference: t.name,
      identityToken: await readIdentityToken(opts),
      fulcioUrl: opts.fulcioUrl ?? 'https://fulcio.sigstore.dev',
      rekorUrl: opts.rekorUrl ?? 'https://rekor.sigstore.dev',
      ...(opts.tsaUrl ? { tsaUrl: opts.tsaUrl } : {}),
      form,
      signal: t.signal,
    });
    return made.signature;
  }
  const { createCosignSignature, decryptCosignKey } = await import('../sign/cosign/index.js');
  const keyFile = await readRequired(opts.key, '--key');
  const privateKeyPem = decryptCosignKey(keyFile, await readCosignPassword(opts.passwordFile));
  return createCosignSignature({ subject: t.subject, subjectReference: t.name, privateKeyPem, form });
}

async function upload(opts: SignOptions, t: SignTarget, signature: SignatureArtifact): Promise<Descriptor> {
  if (signature.format === 'cosign') {
    const { pushCosignSignature } = await import('../sign/cosign/index.js');
    return pushCosignSignature(
      t.repository,
      t.subject,
      signature,
      opts.registryReferrers ? 'referrer' : 'tag',
      t.signal,
    );
  }
  return attachArtifact(t.repository, {
    subject: t.subject,
    artifactType: signature.artifactType,
    layers: signature.layers,
    ...(signature.annotations ? { annotations: signature.annotations } : {}),
    signal: t.signal,
  });
}
