/**
 * `vouch keygen --format cosign --out DIR [--password-file F]`: writes DIR/cosign.key (cosign's
 * encrypted `ENCRYPTED SIGSTORE PRIVATE KEY`) and DIR/cosign.pub, like `cosign generate-key-pair`.
 * The password comes from --password-file, else $COSIGN_PASSWORD (as cosign reads it).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { VouchError } from '../errors.js';
import { readCosignPassword } from '../sign/cosign/password.js';

interface KeygenOptions {
  format: string;
  out: string;
  passwordFile?: string;
}

export function register(program: Command): void {
  program
    .command('keygen')
    .description('generate a signing key pair (cosign format: cosign.key + cosign.pub)')
    .option('--format <format>', 'key format (cosign)', 'cosign')
    .requiredOption('--out <dir>', 'directory to write the key pair to')
    .option('--password-file <file>', 'password of the private key (else $COSIGN_PASSWORD)')
    .action(async (opts: KeygenOptions) => {
      if (opts.format !== 'cosign')
        throw new VouchError('USAGE', `unknown --format "${opts.format}" (cosign)`);
      const password = await readCosignPassword(opts.passwordFile);
      const { generateCosignKeyPair } = await import('../sign/cosign/key-file.js');
      const { privateKeyFile, publicKeyPem } = generateCosignKeyPair(password);
      await mkdir(opts.out, { recursive: true });
      const keyPath = path.join(opts.out, 'cosign.key');
      const pubPath = path.join(opts.out, 'cosign.pub');
      await writeFile(keyPath, privateKeyFile, { mode: 0o600, flag: 'wx' }).catch(
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'EEXIST')
            throw new VouchError('USAGE', `${keyPath} already exists; not overwriting it`);
          throw err;
        },
      );
      await writeFile(pubPath, publicKeyPem);
      process.stdout.write(`Private key written to ${keyPath}\nPublic key written to ${pubPath}\n`);
    });
}
