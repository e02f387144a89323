/**
 * Ratify integration commands:
 *   vouch ratify-plugin                       one Ratify v1 verifier plugin call (src/ratify/)
 *   vouch ratify install-plugin --dir D --name N
 *                                             writes D/N, an executable Ratify finds by the
 *                                             Verifier's type (or name) in its plugin directory
 * `ratify-plugin` never parses arguments that could print to stdout: stdout is Ratify's.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { VouchError } from '../errors.js';

/** Largest stdin read: Ratify's input is a config, a store config and one descriptor. */
const MAX_STDIN_BYTES = 1024 * 1024;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_STDIN_BYTES) return '\u0000too-large';
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * How this vouch is started, spelled out in full: this Node binary and this script (or the
 * single-file executable alone). Not bin/vouch: Ratify starts a new process per artifact, and the
 * wrapper's shell and Node version check would add to every cold start.
 */
function selfCommand(): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = process.argv[1];
  return script && script !== process.execPath && existsSync(script)
    ? `${quote(process.execPath)} ${quote(path.resolve(script))}`
    : quote(process.execPath);
}

export function register(program: Command): void {
  program
    .command('ratify-plugin')
    .description("run as a Ratify v1 verifier plugin (environment and stdin as Ratify's executor sends them)")
    .action(async () => {
      const { runRatifyPlugin } = await import('../ratify/plugin.js');
      const stdin = await readStdin();
      const run =
        stdin === '\u0000too-large'
          ? {
              stdout: JSON.stringify(
                { code: 5, msg: `stdin is larger than ${MAX_STDIN_BYTES} bytes` },
                null,
                4,
              ),
              exitCode: 1,
            }
          : await runRatifyPlugin(process.env, stdin);
      process.stdout.write(run.stdout);
      process.exitCode = run.exitCode;
    });
  const ratify = program.command('ratify').description('Ratify integration');
  ratify
    .command('install-plugin')
    .description("write an executable Ratify finds in its plugin directory (by the Verifier's type or name)")
    .requiredOption('--dir <dir>', "Ratify's plugin directory, e.g. /.ratify/plugins")
    .requiredOption('--name <name>', "the Verifier's type (or name), e.g. vouch")
    .option('--vouch <command>', 'how to start vouch (default: this vouch)')
    .action(async (opts: { dir: string; name: string; vouch?: string }) => {
      if (!/^[A-Za-z0-9._-]+$/.test(opts.name))
        throw new VouchError('USAGE', `--name "${opts.name}" must be a file name ([A-Za-z0-9._-]+)`);
      const file = path.join(opts.dir, opts.name);
      await mkdir(opts.dir, { recursive: true });
      const command = opts.vouch ? `'${opts.vouch.replace(/'/g, `'\\''`)}'` : selfCommand();
      await writeFile(
        file,
        `#!/bin/sh\n# Ratify verifier plugin: vouch (written by vouch ratify install-plugin)\nexec ${command} ratify-plugin\n`,
      );
      await chmod(file, 0o755);
      process.stdout.write(`${file}\n`);
    });
}
