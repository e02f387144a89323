/**
 * `npm run bench [-- name …]`: runs the benchmarks one after another (each starts and stops its own
 * servers on loopback) and prints their numbers. Never part of the test run.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const here = import.meta.dirname;
const all = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.d.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
const wanted = process.argv.slice(2).filter((a) => a !== '--');
const chosen = wanted.length > 0 ? all.filter((b) => wanted.includes(b)) : all;
if (wanted.length > 0 && chosen.length !== wanted.length) {
  console.error(`unknown benchmark(s); known: ${all.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of chosen) {
  console.log(`\n== bench/${name}.ts`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, `${name}.ts`)], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    failed++;
    console.log(`bench/${name}.ts exited with ${r.status ?? r.signal}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
