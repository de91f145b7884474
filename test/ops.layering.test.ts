import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The operations layering: metrics and logging libraries stay at the edges (see docs/ARCHITECTURE.md). */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function listTs(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return listTs(rel);
    return e.isFile() && e.name.endsWith('.ts') ? [rel] : [];
  });
}

const sources = ['bin', 'lib', 'tools', 'demo'].flatMap(listTs).map((file) => ({
  file,
  imports: ts.preProcessFile(readFileSync(path.join(ROOT, file), 'utf8'), true, true).importedFiles.map((f) => f.fileName),
}));
const importers = (match: (spec: string) => boolean) => sources.filter((s) => s.imports.some(match)).map((s) => s.file).sort();

describe('the operations layering, read from import lines', () => {
  it('lets only lib/ops/metrics.ts and its histogram import prom-client', () => {
    expect(importers((spec) => spec === 'prom-client')).to.deep.equal(['lib/ops/metrics.ts', 'lib/ops/weighted-histogram.ts']);
  });

  it('lets only lib/ops/log.ts (and bin/, which wires) import pino', () => {
    expect(importers((spec) => spec === 'pino' || spec.startsWith('pino/'))).to.deep.equal(['bin/holdline.ts', 'lib/ops/log.ts']);
  });

  it('keeps the domain and the stores ignorant of metrics and logs: they report through lib/observer.ts', () => {
    const domain = sources.filter((s) => /^lib\/(hub|engagement|observer)\.ts$|^lib\/(model|poll|fans|store)\//.test(s.file));
    expect(domain.map((s) => s.file)).to.include.members(['lib/hub.ts', 'lib/poll/poller.ts', 'lib/store/instrumented.ts']);
    const bad = domain.flatMap((s) => s.imports.filter((spec) => /(^|\/)(metrics|log)\.js$|^koa|^@koa\//.test(spec)).map((spec) => `${s.file} imports ${spec}`));
    expect(bad).to.deep.equal([]);
  });
});
