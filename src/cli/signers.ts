/**
 * The formats `vouch sign --format` accepts: those of the format list with a signer
 * (src/formats/index.ts), whose code is imported only when one is used.
 */
import { VouchError } from '../errors.js';
import { FORMAT_LIST } from '../formats/index.js';
import type { FormatSigner } from '../formats/types.js';

/** The formats `--format` accepts, in the list's order: `notation, cosign or atproto`. */
const signing = FORMAT_LIST.filter((f) => f.signer !== undefined);
const signingNames = signing.map((f) => f.name);
export const signingList = `${signingNames.slice(0, -1).join(', ')} or ${signingNames.at(-1)}`;

/** The signer of `--format`; a usage error naming the formats that sign otherwise. */
export async function signerFor(format: string): Promise<FormatSigner> {
  const descriptor = signing.find((f) => f.name === format);
  if (!descriptor?.signer) throw new VouchError('USAGE', `unknown --format "${format}" (${signingList})`);
  return descriptor.signer.load();
}
