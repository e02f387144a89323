/**
 * `vouch sign --format atproto`: the flags of the ATCR signer (`--pds`, `--identifier`,
 * `--app-password-file`, `--allow-private-network`, `--hold-did`) read and handed to src/sign/atproto.
 */
import { VouchError } from '../errors.js';
import type { Descriptor } from '../registry/types.js';
import { signAtproto } from '../sign/atproto/index.js';
import { readRequired, type SignOptions, type SignTarget } from './sign.js';

export async function runAtprotoSign(t: SignTarget, opts: SignOptions): Promise<Descriptor> {
  if (!opts.pds) throw new VouchError('USAGE', '--pds is required for --format atproto');
  if (!opts.identifier) throw new VouchError('USAGE', '--identifier is required for --format atproto');
  const appPassword = (await readRequired(opts.appPasswordFile, '--app-password-file')).trim();
  if (t.name.startsWith('oci:'))
    throw new VouchError('USAGE', '--format atproto signs images in a registry, not an OCI layout');
  return signAtproto({
    repository: t.repository,
    subject: t.subject,
    imageRepository: t.repositoryPath,
    pdsUrl: opts.pds,
    identifier: opts.identifier,
    appPassword,
    allowPrivateNetwork: opts.allowPrivateNetwork ?? false,
    ...(opts.holdDid ? { holdDid: opts.holdDid } : {}),
    signal: t.signal,
  });
}
