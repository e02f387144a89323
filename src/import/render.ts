/**
 * Renders an import as vouch.yaml text with its comments (the header, a comment above every mapped
 * field, and the list of what was not carried over), and writes it with its material files.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Document, isMap, isNode, isScalar, isSeq, type Node, Pair } from 'yaml';
import type { ConfigPath, ImportResult } from './result.js';

const comment = (lines: readonly string[]) => lines.map((l) => ` ${l}`).join('\n');

/** The node that carries a comment for `at`: the key of a mapping entry, or the item of a list. */
function commentTarget(doc: Document, at: ConfigPath): Node | undefined {
  if (at.length === 0) return undefined;
  const parent = at.length === 1 ? doc.contents : doc.getIn(at.slice(0, -1), true);
  const last = at[at.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((p) => p instanceof Pair && isScalar(p.key) && p.key.value === last);
    return pair && isScalar(pair.key) ? pair.key : undefined;
  }
  if (isSeq(parent) && typeof last === 'number') {
    const item = parent.items[last];
    return isNode(item) ? item : undefined;
  }
  return undefined;
}

export function renderImport(result: ImportResult): string {
  const doc = new Document(result.config, { aliasDuplicateObjects: false });
  const header = [...result.header];
  const byNode = new Map<Node, string[]>();
  for (const n of result.notes) {
    const target = commentTarget(doc, n.at);
    if (!target) {
      header.push(`${n.at.join('.')}: ${n.text}`);
      continue;
    }
    byNode.set(target, [...(byNode.get(target) ?? []), n.text]);
  }
  for (const [node, texts] of byNode) node.commentBefore = comment(texts);
  if (result.unsupported.length > 0) {
    header.push('', 'NOT CARRIED OVER (vouch cannot express these; the rest is imported):');
    for (const u of result.unsupported) header.push(`  - ${u.field}: ${u.reason}`);
  }
  for (const w of result.warnings) header.push(`warning: ${w}`);
  doc.commentBefore = comment(header);
  return doc.toString({ lineWidth: 0 });
}

/** Writes vouch.yaml and the material files beside it. */
export async function writeImport(result: ImportResult, file: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  await mkdir(dir, { recursive: true });
  for (const f of result.files) await writeFile(path.join(dir, f.name), f.content, { mode: 0o644 });
  await writeFile(file, renderImport(result));
}
