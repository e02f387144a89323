/**
 * `vouch sign --format notation`: `--key`, `--cert`, `--envelope`, `--timestamp-url` read and
 * handed to the notation signer (index.ts), attached as an OCI referrer or written as a file.
 */
import { VouchError } from '../../errors.js';
import type { FormatSigner, SignFlags, SignTarget } from '../../formats/types.js';
import { readRequired } from '../flags.js';
import { createNotationSignature, type SignNotationOptions, signNotation } from './index.js';

async function options(t: SignTarget, flags: SignFlags): Promise<Omit<SignNotationOptions, 'repository'>> {
  const envelope = flags.envelope;
  if (envelope !== 'jws' && envelope !== 'cose')
    throw new VouchError('USAGE', `--envelope must be jws or cose, not "${envelope}"`);
  return {
    subject: t.subject,
    keyPem: await readRequired(flags.key, '--key'),
    certChainPem: await readRequired(flags.cert, '--cert'),
    envelope,
    ...(flags.timestampUrl ? { timestampUrl: flags.timestampUrl } : {}),
    signal: t.signal,
  };
}

export const notationSigner: FormatSigner = {
  async sign(t, flags) {
    return signNotation({ repository: t.repository, ...(await options(t, flags)) });
  },
  async signature(t, flags) {
    return createNotationSignature(await options(t, flags));
  },
};
