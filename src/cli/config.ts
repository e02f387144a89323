/** `vouch config validate <file>` and `vouch config print`: check and show configuration. */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { composeConfig } from '../config/compose.js';
import { loadConfigFile } from '../config/load.js';
import { redactConfig } from '../config/redact.js';
import { buildVerifiers } from '../config/runtime.js';
import { addTrustOptions, trustFlagsFrom } from './trust-options.js';

export function register(program: Command): void {
  const config = program.command('config').description('check and show vouch configuration');
  config
    .command('validate')
    .argument('<file>', 'vouch.yaml')
    .description('validate a config file and load the trust material it names')
    .action(async (file: string) => {
      const loaded = await loadConfigFile(file);
      // loading the trust material checks every file it names (exists, parses)
      const verifiers = await buildVerifiers(loaded.config, loaded.baseDir);
      process.stdout.write(
        `${file}: valid (${loaded.config.policy.rules.length} policy rule(s); verifiers: ${
          verifiers.map((v) => v.name).join(', ') || 'none'
        })\n`,
      );
    });
  addTrustOptions(
    config.command('print').description('print the effective configuration (secrets redacted) as YAML'),
  ).action(async (opts: Record<string, unknown>) => {
    const loaded = await composeConfig({
      ...(typeof opts.config === 'string' ? { configFile: opts.config } : {}),
      flags: trustFlagsFrom(opts),
    });
    process.stdout.write(stringify(redactConfig(loaded.config)));
  });
}
