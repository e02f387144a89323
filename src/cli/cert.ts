/**
 * `vouch cert generate-test <name> --out DIR`: a test key and self-signed code signing certificate,
 * like `notation cert generate-test` (for testing and development only).
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { VouchError } from '../errors.js';

interface GenerateOptions {
  out: string;
  bits: string;
  days: string;
}

export function register(program: Command): void {
  const cert = program.command('cert').description('manage signing certificates');
  cert
    .command('generate-test')
    .argument('<name>', 'common name of the certificate ([a-zA-Z0-9_.-]+); also the file name')
    .description('generate a test RSA key and a self-signed code signing certificate (testing only)')
    .requiredOption('--out <dir>', 'directory to write <name>.key and <name>.crt into')
    .option('--bits <n>', 'RSA key size: 2048, 3072 or 4096', '2048')
    .option('--days <n>', 'validity in days', '365')
    .action(async (name: string, opts: GenerateOptions) => {
      if (!/^[a-zA-Z0-9_.-]+$/.test(name))
        throw new VouchError('USAGE', `name "${name}" must match [a-zA-Z0-9_.-]+`);
      const bits = Number(opts.bits);
      if (bits !== 2048 && bits !== 3072 && bits !== 4096)
        throw new VouchError('USAGE', `--bits must be 2048, 3072 or 4096, not ${opts.bits}`);
      const days = Number(opts.days);
      if (!Number.isInteger(days) || days < 1 || days > 36500)
        throw new VouchError('USAGE', `--days must be a whole number from 1 to 36500, not ${opts.days}`);
      const { generateTestCertificate } = await import('../sign/notation/testcert.js');
      const notBefore = new Date(Date.now() - 60_000);
      const generated = await generateTestCertificate({
        name,
        keyAlgorithm: `rsa-${bits}` as 'rsa-2048',
        notBefore,
        notAfter: new Date(notBefore.getTime() + days * 86_400_000),
      });
      await mkdir(opts.out, { recursive: true });
      const keyPath = path.join(opts.out, `${name}.key`);
      const certPath = path.join(opts.out, `${name}.crt`);
      await writeFile(keyPath, generated.keyPem, { mode: 0o600 });
      await writeFile(certPath, generated.certPem, { mode: 0o644 });
      process.stdout.write(
        `generated RSA-${bits} key: ${keyPath}\ngenerated certificate (${new X509Certificate(generated.certPem).subject.replaceAll('\n', ', ')}): ${certPath}\n`,
      );
    });
}
