/**
 * `vouch sign --output-signature PATH`: the signature is written to files (src/detached/format.ts
 * says which) and the registry is not written to, unless `--upload-signatures` also attaches the
 * same signature to the image as `vouch sign` would (a bundle or notation referrer; a `--legacy`
 * signature on the `.sig` tag, or as a referrer with `--registry-referrers`). The formats with a
 * file form are those whose signer says so (src/formats/, `signer.detached`).
 */
import { encodeDetachedSignature, writeDetachedFiles } from '../detached/index.js';
import { VouchError } from '../errors.js';
import { FORMAT_LIST } from '../formats/index.js';
import type { FormatSigner, SignFlags, SignTarget } from '../formats/types.js';
import { attachArtifact } from '../referrers/attach.js';
import type { Descriptor } from '../registry/types.js';
import type { SignatureArtifact } from '../sign/signature-artifact.js';
import { signerFor } from './signers.js';

export interface DetachedSignResult {
  /** The files written. */
  readonly files: readonly string[];
  /** The pushed signature, with `--upload-signatures`. */
  readonly uploaded?: Descriptor;
}

/** The formats with a file form, alphabetically: `cosign or notation`. */
const detachedNames = FORMAT_LIST.filter((f) => f.signer?.detached)
  .map((f) => f.name)
  .sort();

export async function runDetachedSign(
  opts: SignFlags,
  target: SignTarget,
  path: string,
): Promise<DetachedSignResult> {
  if (!detachedNames.includes(opts.format))
    throw new VouchError(
      'USAGE',
      `--output-signature is for --format ${detachedNames.join(' or ')}, not ${opts.format}`,
    );
  if (opts.legacy && opts.format !== 'cosign')
    throw new VouchError('USAGE', '--legacy is for --format cosign');
  if (opts.legacy && opts.bundle) throw new VouchError('USAGE', '--legacy and --bundle exclude each other');
  const signer = await signerFor(opts.format);
  if (!signer.signature) throw new VouchError('USAGE', `--format ${opts.format} has no signature file`);
  const signature = await signer.signature(target, opts);
  const files = encodeDetachedSignature(path, signature, target.subject);
  await writeDetachedFiles(files);
  if (!opts.uploadSignatures) return { files: files.map((f) => f.path) };
  return { files: files.map((f) => f.path), uploaded: await upload(signer, opts, target, signature) };
}

/** Attaches the signature as the format's signer does, else as an OCI referrer of the image. */
function upload(
  signer: FormatSigner,
  opts: SignFlags,
  t: SignTarget,
  signature: SignatureArtifact,
): Promise<Descriptor> {
  if (signer.upload) return signer.upload(t, opts, signature);
  return attachArtifact(t.repository, {
    subject: t.subject,
    artifactType: signature.artifactType,
    layers: signature.layers,
    ...(signature.annotations ? { annotations: signature.annotations } : {}),
    signal: t.signal,
  });
}
