import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The layering of docs/ARCHITECTURE.md, checked from what each .ts file imports. Imports are
 * found with TypeScript's own pre-processor (static, `export … from`, dynamic `import()` and
 * `require()`), so comments and strings that merely mention a module do not count.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Production code: what the rules are about. Tests may import what they like. */
const CODE_DIRS = ['bin', 'lib', 'tools', 'demo', 'examples', 'bench'];

interface SourceFile {
  /** Repository-relative, with forward slashes: lib/http/app.ts */
  file: string;
  text: string;
  /** Every module specifier as written. */
  imports: string[];
}

function listTs(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(path.join(ROOT, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...listTs(rel));
    else if (e.isFile() && e.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

function load(file: string): SourceFile {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const imports = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
  return { file, text, imports };
}

/** A relative specifier resolved to a repository path (lib/store/memory/store.js); bare ones as written. */
function resolve(from: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
}

/** The package a bare specifier names: koa, @koa/router, node:http. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Every `process.env` read in a file: process.env, process['env'], `const { env } = process`, env from node:process. */
function envReads(source: SourceFile): string[] {
  const sf = ts.createSourceFile(source.file, source.text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const at = (node: ts.Node) => `${source.file}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const isProcess = (node: ts.Node) =>
    (ts.isIdentifier(node) && node.text === 'process') ||
    (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'globalThis' && node.name.text === 'process');
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && node.name.text === 'env' && isProcess(node.expression)) found.push(at(node));
    if (ts.isElementAccessExpression(node) && isProcess(node.expression) && ts.isStringLiteralLike(node.argumentExpression) && node.argumentExpression.text === 'env') {
      found.push(at(node));
    }
    if (ts.isVariableDeclaration(node) && node.initializer && isProcess(node.initializer) && ts.isObjectBindingPattern(node.name)) {
      for (const el of node.name.elements) {
        const key = el.propertyName ?? el.name;
        if (ts.isIdentifier(key) && key.text === 'env') found.push(at(node));
      }
    }
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && ['process', 'node:process'].includes(node.moduleSpecifier.text)) {
      const named = node.importClause?.namedBindings;
      if (named && ts.isNamedImports(named) && named.elements.some((e) => (e.propertyName ?? e.name).text === 'env')) found.push(at(node));
      if (node.importClause?.name || (named && ts.isNamespaceImport(named))) found.push(`${at(node)} (imports process whole)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('the layering, read from import lines', () => {
  const sources = CODE_DIRS.flatMap(listTs).sort().map(load);
  const inDir = (dir: string) => sources.filter((s) => s.file.startsWith(`${dir}/`));
  /** "file imports spec" for every import matching `bad`, in the files given. */
  const offenders = (files: SourceFile[], bad: (resolved: string, source: SourceFile) => boolean) =>
    files.flatMap((s) => s.imports.filter((spec) => bad(resolve(s.file, spec), s)).map((spec) => `${s.file} imports ${spec}`));

  it('finds the files and imports it is checking (the scanner itself works)', () => {
    const files = sources.map((s) => s.file);
    expect(files).to.include.members(['bin/holdline.ts', 'lib/hub.ts', 'lib/poll/poller.ts', 'lib/trust/auth.ts', 'lib/http/app.ts', 'lib/store/memory/store.ts', 'lib/http/handlers/poll.ts']);
    const app = sources.find((s) => s.file === 'lib/http/app.ts')!;
    expect(app.imports).to.include.members(['koa', '@koa/router', './handlers/poll.js']);
    expect(sources.find((s) => s.file === 'lib/trust/auth.ts')!.imports).to.include('jose');
    expect(envReads(load('lib/config.ts')), 'lib/config.ts reads the environment, and the scanner sees it').to.not.deep.equal([]);
    const probe: SourceFile = {
      file: 'lib/probe.ts',
      text: "// process.env in a comment is fine\nconst s = 'process.env';\nconst { env: e } = process;\nconst x = process['env'];\nconst y = globalThis.process.env;\n",
      imports: [],
    };
    expect(envReads(probe)).to.deep.equal(['lib/probe.ts:3', 'lib/probe.ts:4', 'lib/probe.ts:5']);
  });

  it('keeps Koa, @koa/router and koa-bodyparser inside lib/http', () => {
    const koa = (spec: string) => ['koa', '@koa/router', 'koa-bodyparser'].includes(packageOf(spec)) || /^koa-|^@koa\//.test(spec);
    const outside = inDir('lib').filter((s) => !s.file.startsWith('lib/http/'));
    expect(offenders(outside, koa)).to.deep.equal([]);
  });

  it('lets no route import a store', () => {
    expect(offenders(inDir('lib/http/handlers'), (resolved) => resolved.startsWith('lib/store/'))).to.deep.equal([]);
  });

  it('lets only lib/trust/auth.ts import jose', () => {
    const others = sources.filter((s) => s.file !== 'lib/trust/auth.ts');
    expect(offenders(others, (spec) => packageOf(spec) === 'jose')).to.deep.equal([]);
  });

  it('lets only lib/store/redis/ import a Redis client', () => {
    const redis = (spec: string) => ['ioredis', 'redis'].includes(packageOf(spec)) || spec.startsWith('@redis/');
    const others = sources.filter((s) => !s.file.startsWith('lib/store/redis/'));
    expect(offenders(others, redis)).to.deep.equal([]);
  });

  it('keeps process.env out of lib/hub.ts, lib/poll/poller.ts and lib/store/*', () => {
    const domain = sources.filter((s) => s.file === 'lib/hub.ts' || s.file === 'lib/poll/poller.ts' || s.file.startsWith('lib/store/'));
    expect(domain.map((s) => s.file)).to.include.members(['lib/hub.ts', 'lib/poll/poller.ts', 'lib/store/memory/store.ts']);
    expect(domain.flatMap(envReads)).to.deep.equal([]);
  });

  it('wires only in bin/: nothing in lib/ imports bin/', () => {
    expect(offenders(inDir('lib'), (resolved) => resolved.startsWith('bin/'))).to.deep.equal([]);
  });
  it('lets nothing outside lib/http import lib/http, except bin/, which wires', () => {
    const outside = sources.filter((s) => !s.file.startsWith('lib/http/') && !s.file.startsWith('bin/'));
    expect(offenders(outside, (resolved) => resolved.startsWith('lib/http/'))).to.deep.equal([]);
  });

  it('lets tools/ import nothing of lib/ but the protocol types (lib/protocol.ts)', () => {
    expect(inDir('tools').map((s) => s.file)).to.include.members(['tools/client.ts', 'tools/simulator/viewer.ts']);
    expect(offenders(inDir('tools'), (resolved) => resolved.startsWith('lib/') && resolved !== 'lib/protocol.js')).to.deep.equal([]);
  });

  it('keeps lib/model below everything: it imports only itself, the protocol types and lib/util', () => {
    expect(inDir('lib/model').map((s) => s.file)).to.include.members(['lib/model/records.ts', 'lib/model/access.ts']);
    const allowed = (resolved: string) => resolved.startsWith('lib/model/') || resolved.startsWith('lib/util/') || resolved === 'lib/protocol.js';
    expect(offenders(inDir('lib/model'), (resolved) => resolved.startsWith('lib/') && !allowed(resolved))).to.deep.equal([]);
  });

  it('lets no store import the poll engine, the fans, the hub or HTTP', () => {
    const above = /^lib\/(poll|fans|http|trust)\/|^lib\/(hub|engagement|idempotency)\.js$/;
    expect(offenders(inDir('lib/store'), (resolved) => above.test(resolved))).to.deep.equal([]);
  });

  it('has no import cycle in the production code', () => {
    const graph = new Map<string, string[]>();
    for (const s of sources) {
      const deps = s.imports.filter((spec) => spec.startsWith('.')).map((spec) => resolve(s.file, spec).replace(/\.js$/, '.ts'));
      graph.set(s.file, deps.filter((d) => d !== s.file));
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      stack.push(file);
      for (const dep of graph.get(file) ?? []) {
        if (!graph.has(dep)) continue;
        if (state.get(dep) === 'open') cycles.push([...stack.slice(stack.indexOf(dep)), dep].join(' → '));
        else if (!state.has(dep)) visit(dep);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).to.deep.equal([]);
  });
});
