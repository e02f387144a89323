#!/usr/bin/env node
/**
 * vouch's command line. Each command lives in its own file and exports `register(program)`;
 * this file only wires them together.
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { ExitCode, printError } from './io.js';

type Register = (program: Command) => void;

const commands: Array<() => Promise<{ register: Register }>> = [
  // one entry per command file; keep sorted
  () => import('./cert.js'),
  () => import('./config.js'),
  () => import('./discover.js'),
  () => import('./keygen.js'),
  () => import('./resolve.js'),
  () => import('./serve.js'),
  () => import('./sign.js'),
  () => import('./trust-refresh.js'),
  () => import('./verify.js'),
];

async function main(argv: string[]): Promise<number> {
  const program = new Command('vouch')
    .description('decide whether a container image may run')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError();
  for (const load of commands) (await load()).register(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
        return 0;
      return ExitCode.Usage;
    }
    printError(err);
    return typeof (err as { exitCode?: unknown }).exitCode === 'number'
      ? (err as { exitCode: number }).exitCode
      : (await import('./io.js')).exitCodeFor(err);
  }
}

process.exitCode = await main(process.argv);
