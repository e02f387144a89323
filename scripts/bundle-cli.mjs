#!/usr/bin/env node
/**
 * Bundles the compiled CLI (dist/src/cli/main.js) with its dependencies into dist/cli/ (esbuild,
 * ES modules, one chunk per lazily loaded command or verifier). Every `vouch` call and every Ratify
 * plugin call is a new process: resolving and reading ~1,500 module files was most of a cold start
 * (bench/ratify-plugin.ts). The library (dist/src) stays unbundled.
 *
 *   node scripts/bundle-cli.mjs [--single OUT.cjs]   --single: one CommonJS file (the release's
 *                                                    single-file executable needs one script)
 */
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const entry = path.join(root, 'dist/src/cli/main.js');
const singleAt = process.argv.indexOf('--single');
const common = {
  entryPoints: [entry],
  bundle: true,
  platform: 'node',
  target: 'node22',
  logLevel: 'warning',
  // paths in the output (comments, source maps) relative to this checkout, also when node_modules
  // is a link (the release builds in a staging copy): the bundle is the same wherever it is built
  absWorkingDir: root,
  preserveSymlinks: true,
  legalComments: 'linked',
  // dependencies that reach for optional native add-ons fall back to JavaScript without them
  external: ['cbor-extract', 'pino-pretty'],
};

if (singleAt > 0) {
  const out = process.argv[singleAt + 1];
  if (!out) throw new Error('--single needs an output file');
  await build({
    ...common,
    format: 'cjs',
    outfile: path.resolve(out),
    // import.meta.url has no CommonJS spelling esbuild fills in by itself
    define: { 'import.meta.url': '__vouchImportMetaUrl' },
    banner: { js: "const __vouchImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
} else {
  // built beside and swapped in: a vouch started meanwhile (tests run while one rebuilds) finds
  // the old bundle or the new one, never a half-written one
  const target = path.join(root, 'dist/cli');
  const outdir = `${target}.new-${process.pid}`;
  await rm(outdir, { recursive: true, force: true });
  await build({
    ...common,
    format: 'esm',
    splitting: true,
    outdir,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    // CommonJS dependencies call require(); an ES module has none of its own
    banner: {
      js: "import { createRequire as __vouchCreateRequire } from 'node:module'; const require = __vouchCreateRequire(import.meta.url);",
    },
  });
  const old = `${target}.old-${process.pid}`;
  await rename(target, old).catch((err) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rename(outdir, target);
  await rm(old, { recursive: true, force: true });
}
