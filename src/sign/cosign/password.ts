/** The password of an encrypted cosign.key, read as cosign reads it (`vouch sign`, `vouch keygen`). */
import { readFile } from 'node:fs/promises';
import { VouchError } from '../../errors.js';

/** Reads the cosign key password: the file's first line, else $COSIGN_PASSWORD. */
export async function readCosignPassword(passwordFile: string | undefined): Promise<string> {
  if (passwordFile) {
    try {
      return (await readFile(passwordFile, 'utf8')).split(/\r?\n/)[0] ?? '';
    } catch {
      throw new VouchError('USAGE', `--password-file ${passwordFile}: file not found or unreadable`);
    }
  }
  const env = process.env.COSIGN_PASSWORD;
  if (env === undefined) throw new VouchError('USAGE', 'set COSIGN_PASSWORD or pass --password-file');
  return env;
}
