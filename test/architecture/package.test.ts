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

  it('ships an executable bin/vouch shim', () => {
    assert.equal(pkg.bin.vouch, 'bin/vouch');
    accessSync(path.join(ROOT, 'bin/vouch'), constants.X_OK);
  });

  it('runs on the Node the project provides', () => {
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    assert.ok(
      (major === 22 && minor >= 22) || (major === 24 && minor >= 15) || major > 24,
      process.versions.node,
    );
  });
});
