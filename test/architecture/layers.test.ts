/**
 * Layer boundaries of docs/architecture.md, checked on the import statements of src/ (static,
 * `import type` and dynamic `import()` alike): nothing imports cli/ or server/; verifiers never
 * reach into registry internals; the policy is pure; a format's folders import one way
 * (sign → verifiers → trust, never back); server/ reaches the remote registry only through
 * registry/client.ts; and no file imports itself through others (no cycles, types included).
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

interface Edge {
  /** The importing file, relative to src/ (`trust/cosign/load.ts`). */
  readonly from: string;
  /** The imported module as written, resolved relative to src/ (`trust/cosign/types.js`). */
  readonly to: string;
  /** `type`: `import type` / `export type`; `dynamic`: `import()`; `value`: anything else. */
  readonly kind: 'type' | 'value' | 'dynamic';
}

const STATIC = /(?:^|[;\n])\s*(import|export)\s+(type\s+)?(?:[^;'"]*?\bfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** Every relative import of every file of src/. */
function imports(): Edge[] {
  const out: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const from = path.relative(SRC, file);
    const resolve = (spec: string) => path.relative(SRC, path.resolve(path.dirname(file), spec));
    for (const m of text.matchAll(STATIC))
      out.push({ from, to: resolve(m[3] as string), kind: m[2] ? 'type' : 'value' });
    for (const m of text.matchAll(DYNAMIC)) out.push({ from, to: resolve(m[1] as string), kind: 'dynamic' });
  }
  return out;
}

const all = imports();
const show = (e: Edge) => `${e.from} → ${e.to}${e.kind === 'value' ? '' : ` (${e.kind})`}`;
const violations = (pred: (e: Edge) => boolean) => all.filter(pred).map(show);
const under = (folder: string) => (p: string) => p.startsWith(`${folder}/`);

/** The source file an import names (`x.js` is `x.ts`). */
const fileOf = (to: string) => to.replace(/\.js$/, '.ts');

/**
 * Import cycles: every strongly connected component of the file graph with more than one file
 * (or a file importing itself), each reported as one cycle through it, `a → b → … → a`.
 */
function findCycles(edges: readonly { from: string; to: string }[]): string[][] {
  const graph = new Map<string, string[]>();
  for (const e of edges) {
    const targets = graph.get(e.from) ?? [];
    targets.push(fileOf(e.to));
    graph.set(e.from, targets);
  }
  // Tarjan's strongly connected components
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.includes(v)) components.push(component);
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  // one concrete cycle per component: a shortest way back to its first file (breadth first)
  const cycles = components.map((component) => {
    const members = new Set(component);
    const start = [...component].sort()[0] as string;
    const previous = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const v = queue.shift() as string;
      for (const w of graph.get(v) ?? []) {
        if (!members.has(w)) continue;
        if (w === start) {
          const cycle = [start];
          for (let at: string | undefined = v; at !== undefined && at !== start; at = previous.get(at))
            cycle.splice(1, 0, at);
          return [...cycle, start];
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    return [...component, start];
  });
  return cycles.sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
}

describe('layer boundaries', () => {
  it('finds the imports it checks (static, type and dynamic)', () => {
    assert.ok(all.length > 50, `only ${all.length} imports found`);
    for (const kind of ['value', 'type', 'dynamic'] as const)
      assert.ok(
        all.some((e) => e.kind === kind),
        `no ${kind} import found`,
      );
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

  describe("a format's folders import one way: sign → verifiers → trust", () => {
    it('trust/ imports neither verifiers/ nor sign/ (nor the format list above them)', () => {
      assert.deepEqual(
        violations(
          (e) =>
            under('trust')(e.from) &&
            (under('verifiers')(e.to) || under('sign')(e.to) || under('formats')(e.to)),
        ),
        [],
      );
    });

    it('verifiers/ never imports sign/', () => {
      assert.deepEqual(
        violations((e) => under('verifiers')(e.from) && under('sign')(e.to)),
        [],
      );
    });

    it('below the format list, only its leaf of types is imported (formats/types.ts)', () => {
      // the descriptors import every format's code; config/ and cli/ walk the list, and the
      // ratify plugin and the server may too, but trust/, verifiers/, sign/ and the layers they
      // use may only name the seam's types
      const above = ['formats', 'config', 'cli', 'server', 'ratify', 'import'];
      assert.deepEqual(
        violations(
          (e) =>
            under('formats')(e.to) &&
            e.to !== 'formats/types.js' &&
            !above.some((folder) => under(folder)(e.from)),
        ),
        [],
      );
    });

    it('formats/types.ts is a leaf of types: every import of it is `import type`', () => {
      assert.deepEqual(
        violations((e) => e.from === 'formats/types.ts' && e.kind !== 'type'),
        [],
      );
    });
  });

  it('server/ reaches the remote registry and the layout store only through registry/client.ts', () => {
    assert.deepEqual(
      violations(
        (e) => under('server')(e.from) && (under('registry/remote')(e.to) || under('registry/layout')(e.to)),
      ),
      [],
    );
  });

  it('no import cycles among the files of src/, type imports included', () => {
    const cycles = findCycles(all).map((cycle) => cycle.join(' → '));
    assert.deepEqual(cycles, [], `import cycles:\n  ${cycles.join('\n  ')}`);
  });

  it('the cycle detector finds a cycle and names it (so the check above is not vacuous)', () => {
    const edges = [
      { from: 'a.ts', to: 'b.js' },
      { from: 'b.ts', to: 'c.js' },
      { from: 'c.ts', to: 'a.js' },
      { from: 'c.ts', to: 'd.js' },
      { from: 'd.ts', to: 'd.js' },
    ];
    assert.deepEqual(findCycles(edges), [
      ['a.ts', 'b.ts', 'c.ts', 'a.ts'],
      ['d.ts', 'd.ts'],
    ]);
    assert.deepEqual(findCycles([{ from: 'a.ts', to: 'b.js' }]), []);
  });
});
