/**
 * `npm run fuzz -- [--runs N] [--seed S] [FILE…]`: runs the property-based fuzz tests (test/fuzz)
 * with N runs per property (default 100, the test command's) and seed S (default the fixed seed of
 * test/fuzz/harness.ts), then prints how many properties ran and how many cases they tried.
 * A failure prints fast-check's seed and path; rerun with that seed to reproduce it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const env: NodeJS.ProcessEnv = { ...process.env };
const files: string[] = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i] as string;
  const value = () => {
    const v = args[++i];
    if (v === undefined || !/^-?\d+$/.test(v)) {
      console.error(`fuzz: ${arg} needs an integer`);
      process.exit(2);
    }
    return v;
  };
  if (arg === '--runs') env.VOUCH_FUZZ_RUNS = value();
  else if (arg === '--seed') env.VOUCH_FUZZ_SEED = value();
  else if (arg === '--help' || arg === '-h') {
    console.log('usage: npm run fuzz -- [--runs N] [--seed S] [test/fuzz/FILE.test.ts …]');
    process.exit(0);
  } else files.push(arg);
}
const dir = path.join(root, 'test', 'fuzz');
const targets = files.length > 0 ? files : readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join(dir, f));
const reportDir = mkdtempSync(path.join(tmpdir(), 'vouch-fuzz-'));
env.VOUCH_FUZZ_REPORT = path.join(reportDir, 'cases.jsonl');

const started = Date.now();
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...targets], {
  cwd: root,
  env,
  stdio: 'inherit',
});
const seconds = ((Date.now() - started) / 1000).toFixed(1);

let lines: Array<{ name: string; runs: number }> = [];
try {
  lines = readFileSync(env.VOUCH_FUZZ_REPORT, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { name: string; runs: number });
} catch {
  // no property finished
}
rmSync(reportDir, { recursive: true, force: true });
const cases = lines.reduce((n, l) => n + l.runs, 0);
console.log(
  `fuzz: ${lines.length} properties and regression sets passed, ${cases} cases, seed ${env.VOUCH_FUZZ_SEED ?? 'default'}, runs ${env.VOUCH_FUZZ_RUNS ?? 'default'} per property, ${seconds} s`,
);
process.exit(run.status ?? 1);
