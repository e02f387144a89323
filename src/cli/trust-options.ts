/**
 * The trust and registry flags `vouch verify`, `vouch serve` and `vouch config` share (mirroring
 * notation and cosign): `--config`, `--insecure-registry`, then every format's own flags, in the
 * order of the format list (src/formats/index.ts), which declares them once.
 */
import type { Command } from 'commander';
import type { TrustFlags } from '../config/flags.js';
import { attributeName } from '../formats/flags.js';
import { FORMAT_LIST } from '../formats/index.js';
import type { FormatFlag } from '../formats/types.js';
import { collect } from './io.js';

const formatFlags: readonly FormatFlag[] = FORMAT_LIST.flatMap((f) => f.flags?.options ?? []);

export function addTrustOptions(cmd: Command): Command {
  cmd
    .option('--config <file>', 'vouch.yaml with registries, trust material and policy')
    .option(
      '--insecure-registry <host>',
      'reach this registry host[:port] over plain HTTP (repeatable)',
      collect,
      [],
    );
  for (const { flag, help, repeatable, parse } of formatFlags) {
    if (repeatable) cmd.option(flag, help, collect, []);
    else if (parse) cmd.option(flag, help, (text: string) => parse(text));
    else cmd.option(flag, help);
  }
  return cmd;
}

/**
 * The trust flags among a command's options (the registry flag and every format's), with a
 * warning on stderr for each given flag that weakens verification.
 */
export function trustFlagsFrom(opts: Readonly<Record<string, unknown>>): TrustFlags {
  const flags: Record<string, unknown> = {};
  if (opts.insecureRegistry !== undefined) flags.insecureRegistry = opts.insecureRegistry;
  for (const option of formatFlags) {
    const name = attributeName(option.flag);
    if (opts[name] === undefined) continue;
    flags[name] = opts[name];
    if (option.warning) process.stderr.write(`vouch: WARNING: ${option.warning}\n`);
  }
  return flags;
}
