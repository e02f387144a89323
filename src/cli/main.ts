#!/usr/bin/env node
/**
 * vouch's command line. Each command lives in its own file and exports `register(program)`;
 * this file only wires them together.
 */
import { enableCompileCache } from 'node:module';
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { ExitCode, printError } from './io.js';

type Register = (program: Command) => void;

/** Command name → its module, loaded only when that command runs (start-up time matters). */
const commands: Record<string, () => Promise<{ register: Register }>> = {
  attach: () => import('./attach.js'),
  cert: () => import('./cert.js'),
  config: () => import('./config.js'),
  discover: () => import('./discover.js'),
  import: () => import('./import.js'),
  keygen: () => import('./keygen.js'),
  ratify: () => import('./ratify.js'),
  'ratify-plugin': () => import('./ratify.js'),
  resolve: () => import('./resolve.js'),
  serve: () => import('./serve.js'),
  sign: () => import('./sign.js'),
  'trust-refresh': () => import('./trust-refresh.js'),
  verify: () => import('./verify.js'),
};

/** The modules to load: the named command's, or all of them (help, unknown command). */
function commandsFor(argv: readonly string[]): Array<() => Promise<{ register: Register }>> {
  const name = argv.slice(2).find((a) => !a.startsWith('-'));
  if (name === undefined && argv.some((a) => a === '-V' || a === '--version')) return [];
  const one = name === undefined ? undefined : commands[name];
  return one ? [one] : Object.values(commands);
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('vouch')
    .description('decide whether a container image may run')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError();
  for (const load of commandsFor(argv)) (await load()).register(program);
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

// V8's compiled code for vouch and its dependencies, kept on disk between runs (os.tmpdir(), or
// NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off): every CLI call and every Ratify
// plugin call is a new process, and compiling the verifiers' modules is most of a cold start.
enableCompileCache();
// `vouch … | head`: a closed pipe ends the output, not with a stack trace
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
// not a top-level await: the release's single-file executable bundles this file as CommonJS
void main(process.argv).then((code) => {
  process.exitCode = code;
});
