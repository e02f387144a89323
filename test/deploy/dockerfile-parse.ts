/** Dockerfile text → instructions, for the deploy tests (no Docker engine runs in CI). */
import assert from 'node:assert/strict';

export interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** Dockerfile → instructions (comments dropped, `\` continuations joined), tagged with their stage. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^(\w+)\s+(.*)$/s.exec(full);
    assert.ok(m, `cannot parse Dockerfile line: ${full}`);
    const op = (m[1] ?? '').toUpperCase();
    if (op === 'FROM') stage++;
    out.push({ op, args: (m[2] ?? '').trim(), stage });
  }
  return out;
}
