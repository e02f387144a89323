/** Project facts other parts rely on: version in step, engines range, the CLI shim. */
import assert from 'node:assert/strict';
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { VERSION } from '../../src/version.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
  bin: Record<string, string>;
  type: string;
};

describe('package', () => {
  it('reports the version package.json declares', () => {
    assert.equal(VERSION, pkg.version);
  });

  it('requires Node ^22.22.2 || >=24.15 and is ESM', () => {
    assert.equal(pkg.engines.node, '^22.22.2 || >=24.15');
    assert.equal(pkg.type, 'module');
  });

  it('the package runs the bundled CLI; a checkout runs it through the executable bin/vouch', () => {
    // npm links bin entries as they are: the bundle keeps main.ts's shebang
    assert.equal(pkg.bin.vouch, 'dist/cli/main.js');
    assert.ok(readFileSync(path.join(ROOT, 'src/cli/main.ts'), 'utf8').startsWith('#!/usr/bin/env node\n'));
    accessSync(path.join(ROOT, 'bin/vouch'), constants.X_OK);
    assert.match(readFileSync(path.join(ROOT, 'bin/vouch'), 'utf8'), /dist\/cli\/main\.js/);
  });

  it('runs on the Node the project provides', () => {
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    assert.ok(
      (major === 22 && minor >= 22) || (major === 24 && minor >= 15) || major > 24,
      process.versions.node,
    );
  });
});
