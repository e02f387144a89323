/**
 * Layer boundaries of docs/architecture.md, checked on the import statements of src/:
 * nothing imports cli/ or server/; verifiers never reach into registry internals; the policy is pure.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const SRC = path.resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  );
}

/** Every relative import of every file, as a path relative to src/. */
function imports(): Array<{ from: string; to: string }> {
  const out: Array<{ from: string; to: string }> = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = path.relative(SRC, path.resolve(path.dirname(file), m[1]!));
      out.push({ from: path.relative(SRC, file), to: target });
    }
  }
  return out;
}

const all = imports();
const violations = (pred: (e: { from: string; to: string }) => boolean) =>
  all.filter(pred).map((e) => `${e.from} → ${e.to}`);

describe('layer boundaries', () => {
  it('finds the imports it checks', () => {
    assert.ok(all.length > 50, `only ${all.length} imports found`);
  });

  it('nothing outside cli/ imports cli/', () => {
    assert.deepEqual(
      violations((e) => e.to.startsWith('cli/') && !e.from.startsWith('cli/')),
      [],
    );
  });

  it('nothing outside server/ and cli/ imports server/', () => {
    assert.deepEqual(
      violations(
        (e) => e.to.startsWith('server/') && !e.from.startsWith('server/') && !e.from.startsWith('cli/'),
      ),
      [],
    );
  });

  it('verifiers use the Repository seam, never registry internals', () => {
    assert.deepEqual(
      violations(
        (e) =>
          e.from.startsWith('verifiers/') &&
          (e.to.startsWith('registry/remote') || e.to.startsWith('registry/layout')),
      ),
      [],
    );
  });

  it('the engine fetches, verifiers decide: no verifier reads a repository or pushes', () => {
    // a verifier declares what it reads (Verifier.reads) and gets the bytes (src/engine/run.ts);
    // its subject and context carry no repository, and no file of verifiers/ calls one
    const calls = sourceFiles(path.join(SRC, 'verifiers')).flatMap((file) =>
      [
        ...readFileSync(file, 'utf8').matchAll(
          /\.(fetchManifest|fetchBlob|referrers|pushBlob|pushManifest)\(/g,
        ),
      ].map((m) => `${path.relative(SRC, file)}: .${m[1]}(`),
    );
    assert.deepEqual(calls, []);
  });

  it('the policy is pure: it imports only policy/ and engine types', () => {
    assert.deepEqual(
      violations(
        (e) => e.from.startsWith('policy/') && !e.to.startsWith('policy/') && e.to !== 'engine/types.js',
      ),
      [],
    );
  });
});
