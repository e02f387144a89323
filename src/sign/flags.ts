/** Reading what `vouch sign`'s flags name (src/formats/types.ts `SignFlags`) for the signers. */
import { readFile } from 'node:fs/promises';
import { VouchError } from '../errors.js';

/** Reads a file a flag names; a missing flag or file is a usage error naming the flag. */
export async function readRequired(file: string | undefined, flag: string): Promise<string> {
  if (!file) throw new VouchError('USAGE', `${flag} is required for this format`);
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new VouchError('USAGE', `${flag} ${file}: file not found or unreadable`);
  }
}
