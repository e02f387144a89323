/**
 * A renderer for the small subset of Go text/template (plus Helm's toYaml, nindent, indent,
 * quote and .Files.Get) that deploy/helm/vouch uses. No Helm binary runs in CI, so the chart's
 * tests render it with this. Anything outside the subset throws, which keeps the chart simple:
 * `{{ .Values.x }}`, `{{ .Release.Namespace }}`, `{{ .Chart.AppVersion }}`, pipelines,
 * `{{- if COND }} … {{- else }} … {{- end }}` with `eq`, `ne`, `not`, `and`, `or`, and the
 * whitespace trim markers `{{-` / `-}}` (text/template semantics: trim all adjacent spaces and newlines).
 */
import { stringify } from 'yaml';

export interface TemplateContext {
  Values: Record<string, unknown>;
  Release: { Name: string; Namespace: string };
  Chart: Record<string, unknown>;
  /** Reads a file of the chart, for `.Files.Get "path"`. */
  readFile: (path: string) => string;
}

type TemplateNode =
  | { kind: 'text'; text: string }
  | { kind: 'action'; expr: string }
  | { kind: 'if'; cond: string; whenTrue: TemplateNode[]; otherwise: TemplateNode[] };

interface Token {
  kind: 'text' | 'action';
  text: string;
}

function lex(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < source.length) {
    const open = source.indexOf('{{', pos);
    if (open === -1) {
      tokens.push({ kind: 'text', text: source.slice(pos) });
      break;
    }
    const close = source.indexOf('}}', open);
    if (close === -1) throw new Error(`unclosed action at offset ${open}`);
    let text = source.slice(pos, open);
    let inner = source.slice(open + 2, close);
    if (inner.startsWith('- ')) {
      text = text.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    tokens.push({ kind: 'text', text });
    let next = close + 2;
    if (inner.endsWith(' -')) {
      inner = inner.slice(0, -1);
      while (next < source.length && /\s/.test(source[next] ?? '')) next++;
    }
    if (inner.trim().startsWith('/*')) {
      pos = next;
      continue;
    }
    tokens.push({ kind: 'action', text: inner.trim() });
    pos = next;
  }
  return tokens;
}

function parse(tokens: Token[]): TemplateNode[] {
  let index = 0;
  function block(stopAt: Set<string>): { nodes: TemplateNode[]; stop: string } {
    const nodes: TemplateNode[] = [];
    while (index < tokens.length) {
      const token = tokens[index++]!;
      if (token.kind === 'text') {
        if (token.text !== '') nodes.push({ kind: 'text', text: token.text });
        continue;
      }
      if (stopAt.has(token.text)) return { nodes, stop: token.text };
      if (token.text.startsWith('if ')) {
        const whenTrue = block(new Set(['else', 'end']));
        const otherwise = whenTrue.stop === 'else' ? block(new Set(['end'])).nodes : [];
        nodes.push({ kind: 'if', cond: token.text.slice(3).trim(), whenTrue: whenTrue.nodes, otherwise });
        continue;
      }
      if (/^(else|end|range|with|define|template|block)\b/.test(token.text)) {
        throw new Error(`unsupported or misplaced action {{ ${token.text} }}`);
      }
      nodes.push({ kind: 'action', expr: token.text });
    }
    if (stopAt.size > 0) throw new Error(`missing {{ end }}`);
    return { nodes, stop: '' };
  }
  return block(new Set()).nodes;
}

function splitArgs(command: string): string[] {
  const args: string[] = [];
  const re = /"(?:[^"\\]|\\.)*"|\S+/g;
  for (const m of command.matchAll(re)) args.push(m[0]);
  return args;
}

function splitPipeline(expr: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of expr) {
    if (ch === '"') quoted = !quoted;
    if (ch === '|' && !quoted) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  parts.push(current.trim());
  return parts;
}

function lookup(path: string, ctx: TemplateContext): unknown {
  const [root, ...rest] = path.slice(1).split('.');
  let value: unknown =
    root === 'Values'
      ? ctx.Values
      : root === 'Release'
        ? ctx.Release
        : root === 'Chart'
          ? ctx.Chart
          : undefined;
  if (value === undefined) throw new Error(`unknown root ${path}`);
  for (const key of rest) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Go template truthiness: false, 0, nil and empty strings, arrays and maps are false. */
export function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 }).replace(/\n$/, '');
}

function indent(n: number, text: string): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((line) => pad + line)
    .join('\n');
}

function evalArg(arg: string, ctx: TemplateContext): unknown {
  if (arg.startsWith('"')) return JSON.parse(arg) as string;
  if (/^-?\d+$/.test(arg)) return Number(arg);
  if (arg === 'true' || arg === 'false') return arg === 'true';
  if (arg.startsWith('.')) return lookup(arg, ctx);
  throw new Error(`unsupported argument ${arg}`);
}

const FUNCTIONS = new Set(['eq', 'ne', 'not', 'and', 'or', 'quote', 'toYaml', 'indent', 'nindent']);

function evalCommand(command: string, piped: unknown[], ctx: TemplateContext): unknown {
  const [head, ...rawArgs] = splitArgs(command);
  if (head === undefined) throw new Error('empty command');
  if (head === '.Files.Get') {
    const [file] = [...rawArgs.map((a) => evalArg(a, ctx)), ...piped];
    if (typeof file !== 'string') throw new Error('.Files.Get needs a path');
    return ctx.readFile(file);
  }
  if (head.startsWith('.') || head.startsWith('"') || /^-?\d+$/.test(head)) {
    if (rawArgs.length > 0 || piped.length > 0) throw new Error(`cannot call ${head}`);
    return evalArg(head, ctx);
  }
  if (!FUNCTIONS.has(head)) throw new Error(`unsupported function ${head}`);
  const args = [...rawArgs.map((a) => evalArg(a, ctx)), ...piped];
  switch (head) {
    case 'eq':
      return args[0] === args[1];
    case 'ne':
      return args[0] !== args[1];
    case 'not':
      return !truthy(args[0]);
    case 'and':
      return args.every(truthy);
    case 'or':
      return args.some(truthy);
    case 'quote':
      return JSON.stringify(args[0] === undefined || args[0] === null ? '' : String(args[0]));
    case 'toYaml':
      return toYaml(args[0]);
    case 'indent':
      return indent(Number(args[0]), String(args[1]));
    case 'nindent':
      return `\n${indent(Number(args[0]), String(args[1]))}`;
    default:
      throw new Error(`unsupported function ${head}`);
  }
}

function evalPipeline(expr: string, ctx: TemplateContext): unknown {
  let value: unknown;
  let first = true;
  for (const command of splitPipeline(expr)) {
    value = evalCommand(command, first ? [] : [value], ctx);
    first = false;
  }
  return value;
}

function print(value: unknown, expr: string): string {
  if (value === undefined || value === null) throw new Error(`{{ ${expr} }} is not set`);
  if (typeof value === 'object') throw new Error(`{{ ${expr} }} is a map or list; pipe it to toYaml`);
  return String(value);
}

function renderNodes(nodes: TemplateNode[], ctx: TemplateContext): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'action') out += print(evalPipeline(node.expr, ctx), node.expr);
    else out += renderNodes(truthy(evalPipeline(node.cond, ctx)) ? node.whenTrue : node.otherwise, ctx);
  }
  return out;
}

/** Renders one template file's text. Throws on syntax outside the supported subset. */
export function renderTemplate(source: string, ctx: TemplateContext): string {
  return renderNodes(parse(lex(source)), ctx);
}
