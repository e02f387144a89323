/**
 * `vouch import ratify FILE…` and `vouch import policy-controller FILE…`: another tool's
 * configuration as a vouch.yaml (src/import/). The output is checked with the one config loader
 * before it is printed or written; constructs vouch cannot express fail the import, naming each,
 * unless `--allow-partial` (then they are listed in the file and on stderr).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../config/load.js';
import { VouchError } from '../errors.js';
import type { ImportResult } from '../import/result.js';
import { collect } from './io.js';

interface ImportOptions {
  output?: string;
  allowPartial?: boolean;
  insecureRegistry?: string[];
}

async function emit(result: ImportResult, source: string, opts: ImportOptions): Promise<void> {
  const [{ renderImport, writeImport }, { unsupportedError }] = await Promise.all([
    import('../import/render.js'),
    import('../import/result.js'),
  ]);
  if (result.unsupported.length > 0 && !opts.allowPartial) throw unsupportedError(source, result.unsupported);
  for (const u of result.unsupported)
    process.stderr.write(`vouch: not carried over: ${u.field}: ${u.reason}\n`);
  for (const w of result.warnings) process.stderr.write(`vouch: warning: ${w}\n`);
  const text = renderImport(result);
  validateConfig(parseYaml(text), 'the generated vouch.yaml');
  if (opts.output) {
    await writeImport(result, opts.output);
    process.stderr.write(
      `vouch: wrote ${opts.output}${result.files.length > 0 ? ` and ${result.files.map((f) => f.name).join(', ')} beside it` : ''}\n`,
    );
    return;
  }
  if (result.files.length > 0)
    throw new VouchError(
      'USAGE',
      `the import holds inline keys or certificates (${result.files.map((f) => f.name).join(', ')}): give -o FILE, they are written beside it`,
    );
  process.stdout.write(text);
}

const outDir = (opts: ImportOptions) =>
  opts.output ? path.dirname(path.resolve(opts.output)) : process.cwd();

export function register(program: Command): void {
  const cmd = program.command('import').description("convert another tool's configuration into a vouch.yaml");
  cmd
    .command('ratify')
    .argument(
      '<files...>',
      'Ratify config.json, or YAML files of v1beta1 Store, Verifier, Policy, KeyManagementProvider resources',
    )
    .description('convert Ratify v1 configuration (config.json or v1beta1 CRs) into a vouch.yaml')
    .option(
      '-o, --output <file>',
      'write vouch.yaml here (inline keys and certificates beside it); default stdout',
    )
    .option('--allow-partial', 'import what vouch can express; list the rest as comments and on stderr')
    .option(
      '--insecure-registry <host>',
      "a host Ratify's useHttp reached over plain HTTP (repeatable)",
      collect,
      [],
    )
    .action(async (files: string[], opts: ImportOptions) => {
      const { importRatifyFiles } = await import('../import/ratify.js');
      const result = await importRatifyFiles(files, {
        outDir: outDir(opts),
        insecureHosts: opts.insecureRegistry ?? [],
      });
      await emit(result, files.join(', '), opts);
    });
  cmd
    .command('policy-controller')
    .argument('<files...>', 'YAML files of sigstore policy-controller ClusterImagePolicy objects')
    .description('convert sigstore policy-controller ClusterImagePolicy objects into vouch policy rules')
    .option('-o, --output <file>', 'write vouch.yaml here (inline keys beside it); default stdout')
    .option('--allow-partial', 'import what vouch can express; list the rest as comments and on stderr')
    .action(async (files: string[], opts: ImportOptions) => {
      const { importPolicyControllerFiles } = await import('../import/policy-controller.js');
      const result = await importPolicyControllerFiles(files, { outDir: outDir(opts) });
      await emit(result, files.join(', '), opts);
    });
}
