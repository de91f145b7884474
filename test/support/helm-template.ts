/**
 * A small renderer for the Go-template subset deploy/helm/holdline uses, so its rendered YAML can
 * be checked where helm is not installed (Debian packages no helm). Supported: {{ }} with trim
 * markers and comments; if / else if / else / end; range (lists, and maps in key order with
 * `$k, $v :=`); define and include; pipelines; field chains on `.`, `$` and range variables;
 * string, number and boolean literals; parentheses; and the functions in FUNCS. Anything else
 * throws, so a template that uses more than this cannot pass unnoticed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, parseAllDocuments, stringify } from 'yaml';

type Node =
  | { t: 'text'; s: string }
  | { t: 'out'; p: string }
  | { t: 'if'; branches: Array<{ cond: string; body: Node[] }>; otherwise: Node[] }
  | { t: 'range'; vars: string[]; p: string; body: Node[] };
type Scope = { dot: unknown; vars: Map<string, unknown> };

/** Splits a template into text and actions, applying `{{-` and `-}}` and dropping comments. */
function lex(src: string): Array<{ text: string } | { action: string }> {
  const out: Array<{ text: string } | { action: string }> = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      out.push({ text });
      break;
    }
    const close = src.indexOf('}}', open);
    if (close < 0) throw new Error('unclosed {{');
    let inner = src.slice(open + 2, close);
    if (/^-\s/.test(inner)) {
      text = text.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    trimNext = /\s-$/.test(inner);
    if (trimNext) inner = inner.slice(0, -1);
    out.push({ text });
    inner = inner.trim();
    if (!(inner.startsWith('/*') && inner.endsWith('*/'))) out.push({ action: inner });
    i = close + 2;
  }
  return out;
}

/** Builds the node tree; `define` bodies go to `defines`. */
function parseTemplate(src: string, defines: Map<string, Node[]>): Node[] {
  const tokens = lex(src);
  let pos = 0;
  const block = (ends: string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const tok = tokens[pos++]!;
      if ('text' in tok) {
        if (tok.text !== '') nodes.push({ t: 'text', s: tok.text });
        continue;
      }
      const a = tok.action;
      const word = a.split(/\s+/)[0]!;
      if (ends.includes(word)) return { nodes, end: a };
      if (word === 'if') {
        const branches = [{ cond: a.slice(2).trim(), body: [] as Node[] }];
        let otherwise: Node[] = [];
        for (;;) {
          const r = block(['else', 'end']);
          if (r.end === 'end') {
            branches[branches.length - 1]!.body = r.nodes;
            break;
          }
          branches[branches.length - 1]!.body = r.nodes;
          if (r.end.startsWith('else if ')) branches.push({ cond: r.end.slice(8).trim(), body: [] });
          else {
            otherwise = block(['end']).nodes;
            break;
          }
        }
        nodes.push({ t: 'if', branches, otherwise });
      } else if (word === 'range') {
        const m = /^range\s+(?:(\$\w+)\s*(?:,\s*(\$\w+))?\s*:=\s*)?(.+)$/.exec(a);
        if (!m) throw new Error(`cannot parse "${a}"`);
        const vars = [m[1], m[2]].filter((v): v is string => v !== undefined);
        nodes.push({ t: 'range', vars, p: m[3]!, body: block(['end']).nodes });
      } else if (word === 'define') {
        const name = /^define\s+"([^"]+)"$/.exec(a)?.[1];
        if (!name) throw new Error(`cannot parse "${a}"`);
        defines.set(name, block(['end']).nodes);
      } else if (['with', 'template', 'block', 'else', 'end'].includes(word) || /^\$\w+\s*:?=/.test(a)) {
        throw new Error(`unsupported template action "${a}"`);
      } else nodes.push({ t: 'out', p: a });
    }
    if (ends.length > 0) throw new Error(`missing {{ end }} (wanted ${ends.join('/')})`);
    return { nodes, end: '' };
  };
  return block([]).nodes;
}

/** Go template truth: false, 0, nil, "" and empty collections are false. */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

const toInt = (v: unknown): number => (v === undefined || v === null || v === '' ? 0 : Math.trunc(Number(v)));
const indentLines = (n: number, s: string) => s.split('\n').map((l) => (l === '' ? l : ' '.repeat(n) + l)).join('\n');

/** Splits a pipeline or command on a separator outside quotes and parentheses. */
function splitTop(s: string, sep: RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      cur += c;
      if (c === '\\' && quote === '"') cur += s[++i] ?? '';
      else if (c === quote) quote = null;
    } else if (c === '"' || c === '`') {
      quote = c;
      cur += c;
    } else if (c === '(' || c === ')') {
      depth += c === '(' ? 1 : -1;
      cur += c;
    } else if (depth === 0 && sep.test(c)) {
      if (cur.trim() !== '') parts.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim() !== '') parts.push(cur.trim());
  return parts;
}

export class HelmTemplate {
  private readonly defines = new Map<string, Node[]>();
  private readonly files = new Map<string, Node[]>();
  private readonly chart: Record<string, unknown>;
  private readonly values: Record<string, unknown>;
  private readonly funcs: Record<string, (...args: unknown[]) => unknown> = {
    quote: (...a) => a.filter((v) => v !== undefined && v !== null).map((v) => JSON.stringify(String(v))).join(' '),
    default: (def, v) => (truthy(v) ? v : def),
    toYaml: (v) => stringify(v, { sortMapEntries: true }).trimEnd(),
    nindent: (n, s) => `\n${indentLines(toInt(n), String(s))}`,
    indent: (n, s) => indentLines(toInt(n), String(s)),
    include: (name, ctx) => this.renderNodes(this.define(String(name)), { dot: ctx, vars: new Map([['$', ctx]]) }),
    printf: (fmt, ...args) => String(fmt).replace(/%[sdv]/g, () => String(args.shift() ?? '')),
    trunc: (n, s) => String(s).slice(0, toInt(n)),
    trimSuffix: (suffix, s) => (String(s).endsWith(String(suffix)) ? String(s).slice(0, -String(suffix).length) : String(s)),
    int: (v) => toInt(v),
    add: (...a) => a.reduce<number>((sum, v) => sum + toInt(v), 0),
    div: (a, b) => Math.trunc(toInt(a) / toInt(b)),
    and: (...a) => a.find((v) => !truthy(v)) ?? a[a.length - 1],
    or: (...a) => a.find((v) => truthy(v)) ?? a[a.length - 1],
    not: (v) => !truthy(v),
    eq: (a, b) => a === b,
    ne: (a, b) => a !== b,
    gt: (a, b) => Number(a) > Number(b),
    fail: (msg) => {
      throw new Error(`helm template failed: ${String(msg)}`);
    },
  };

  /** Loads a chart directory: Chart.yaml, values.yaml and every file under templates/. */
  constructor(dir: string, overrides: Record<string, unknown> = {}, private readonly release = { Name: 'rel', Namespace: 'default', Service: 'Helm' }) {
    this.chart = parseYaml(readFileSync(path.join(dir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
    this.values = merge(parseYaml(readFileSync(path.join(dir, 'values.yaml'), 'utf8')) as Record<string, unknown>, overrides);
    for (const file of readdirSync(path.join(dir, 'templates')).sort()) {
      this.files.set(file, parseTemplate(readFileSync(path.join(dir, 'templates', file), 'utf8'), this.defines));
    }
  }

  /** Renders every template (helpers render nothing) and parses the YAML documents. */
  render(): Array<Record<string, unknown>> {
    const root = {
      Values: this.values,
      Release: this.release,
      Chart: { Name: this.chart['name'], Version: this.chart['version'], AppVersion: this.chart['appVersion'] },
    };
    const docs: Array<Record<string, unknown>> = [];
    for (const nodes of this.files.values()) {
      const text = this.renderNodes(nodes, { dot: root, vars: new Map([['$', root]]) });
      for (const doc of parseAllDocuments(text)) {
        if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]!.message}\n${text}`);
        const value = doc.toJS() as Record<string, unknown> | null;
        if (value) docs.push(value);
      }
    }
    return docs;
  }

  private define(name: string): Node[] {
    const nodes = this.defines.get(name);
    if (!nodes) throw new Error(`no template "${name}"`);
    return nodes;
  }

  private renderNodes(nodes: Node[], scope: Scope): string {
    let out = '';
    for (const n of nodes) {
      if (n.t === 'text') out += n.s;
      else if (n.t === 'out') {
        const v = this.pipeline(n.p, scope);
        out += v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
      } else if (n.t === 'if') {
        const hit = n.branches.find((b) => truthy(this.pipeline(b.cond, scope)));
        out += this.renderNodes(hit ? hit.body : n.otherwise, scope);
      } else {
        const over = this.pipeline(n.p, scope);
        const entries: Array<[unknown, unknown]> = Array.isArray(over)
          ? over.map((v, i) => [i, v])
          : over && typeof over === 'object'
            ? Object.keys(over).sort().map((k) => [k, (over as Record<string, unknown>)[k]])
            : [];
        for (const [k, v] of entries) {
          const vars = new Map(scope.vars);
          if (n.vars.length === 1) vars.set(n.vars[0]!, v);
          if (n.vars.length === 2) vars.set(n.vars[0]!, k).set(n.vars[1]!, v);
          out += this.renderNodes(n.body, { dot: v, vars });
        }
      }
    }
    return out;
  }

  private pipeline(src: string, scope: Scope): unknown {
    let piped: { v: unknown } | null = null;
    for (const command of splitTop(src, /\|/)) {
      const words = splitTop(command, /\s/);
      const head = words[0]!;
      if (/^[A-Za-z]\w*$/.test(head) && !['true', 'false', 'nil'].includes(head)) {
        const fn = this.funcs[head];
        if (!fn) throw new Error(`unsupported function "${head}"`);
        const args = words.slice(1).map((w) => this.term(w, scope));
        piped = { v: fn(...(piped ? [...args, piped.v] : args)) };
      } else {
        if (piped || words.length > 1) throw new Error(`cannot evaluate "${command}"`);
        piped = { v: this.term(head, scope) };
      }
    }
    return piped?.v;
  }

  private term(w: string, scope: Scope): unknown {
    if (w.startsWith('(') && w.endsWith(')')) return this.pipeline(w.slice(1, -1), scope);
    if (w.startsWith('"')) return JSON.parse(w) as string;
    if (w.startsWith('`')) return w.slice(1, -1);
    if (/^-?\d+(\.\d+)?$/.test(w)) return Number(w);
    if (w === 'true' || w === 'false') return w === 'true';
    if (w === 'nil') return null;
    const m = /^(\$\w*|\.)?((?:\.\w+)*)$/.exec(w.startsWith('.') && w !== '.' ? `.${w}` : w);
    if (!m) throw new Error(`cannot evaluate "${w}"`);
    let v: unknown = m[1] === '.' || m[1] === undefined ? scope.dot : scope.vars.get(m[1]);
    if (m[1] !== '.' && m[1] !== undefined && !scope.vars.has(m[1])) throw new Error(`undefined variable ${m[1]}`);
    for (const key of m[2]!.split('.').filter(Boolean)) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
    return v;
  }
}

/** values.yaml with overrides merged in (objects deeply, everything else replaced). */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
      ? merge(b as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}
