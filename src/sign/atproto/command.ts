/**
 * `vouch sign --format atproto`: the flags of the ATCR signer (`--pds`, `--identifier`,
 * `--app-password-file`, `--allow-private-network`, `--hold-did`) read and handed to index.ts.
 */
import { VouchError } from '../../errors.js';
import type { FormatSigner } from '../../formats/types.js';
import { readRequired } from '../flags.js';
import { signAtproto } from './index.js';

export const atprotoSigner: FormatSigner = {
  async sign(t, flags) {
    if (!flags.pds) throw new VouchError('USAGE', '--pds is required for --format atproto');
    if (!flags.identifier) throw new VouchError('USAGE', '--identifier is required for --format atproto');
    const appPassword = (await readRequired(flags.appPasswordFile, '--app-password-file')).trim();
    if (t.name.startsWith('oci:'))
      throw new VouchError('USAGE', '--format atproto signs images in a registry, not an OCI layout');
    return signAtproto({
      repository: t.repository,
      subject: t.subject,
      imageRepository: t.repositoryPath,
      pdsUrl: flags.pds,
      identifier: flags.identifier,
      appPassword,
      allowPrivateNetwork: flags.allowPrivateNetwork ?? false,
      ...(flags.holdDid ? { holdDid: flags.holdDid } : {}),
      signal: t.signal,
    });
  },
};
