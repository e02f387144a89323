/**
 * The test command's interop step: runs the generic runner over every folder of `<root>`
 * (../shared/interop) that holds a cases.json. When the folder does not exist (a user's clone
 * without ../shared) it says plainly that the vectors were skipped.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { runSuite } from './run.js';

const root = path.resolve(process.argv[2] ?? '../shared/interop');
if (!existsSync(root)) {
  console.log(
    `interop: ${root} does not exist; the shared interop vectors were NOT run (they are beside the checkout in CI)`,
  );
  process.exit(0);
}
const dirs = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(root, d.name, 'cases.json')))
  .map((d) => path.join(root, d.name));
let passed = 0;
let failed = 0;
for (const dir of dirs) {
  const lines: string[] = [];
  const r = await runSuite(dir, (l) => lines.push(l));
  for (const l of lines) if (!(JSON.parse(l) as { pass: boolean }).pass) console.log(l);
  console.log(`interop ${path.basename(dir)}: ${r.passed} passed, ${r.failed} failed`);
  passed += r.passed;
  failed += r.failed;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
