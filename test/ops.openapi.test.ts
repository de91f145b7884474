import { expect } from 'chai';
import { systemClock } from '../lib/util/clock.js';
import { loadConfig } from '../lib/config.js';
import { createRouter } from '../lib/http/app.js';
import { openApiDocument } from '../lib/http/openapi/document.js';
import { Hub } from '../lib/hub.js';
import { Metrics } from '../lib/ops/metrics.js';
import { MemoryStore } from '../lib/store/memory/store.js';
import { startTestServer } from './support/server.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options'];


/** Every "METHOD /path" the router answers, read from its stack (HEAD comes with GET). */
async function routed(): Promise<Set<string>> {
  const config = loadConfig({});
  const store = new MemoryStore({ ...config });
  const hub = new Hub(store, systemClock, config);
  const metrics = new Metrics(
    { heldPolls: () => 0, streams: () => 0, draining: () => false, eventsOpen: async () => 0, viewerTotals: async () => ({ total: 0, top: [] }) },
    { processMetrics: false },
  );
  // A demo server's router: every route, the demo pages' too.
  const demo = { viewerToken: () => Promise.reject(new Error('not in this test')) };
  const router = createRouter({ hub, config, metrics, log: () => undefined, demo });
  const out = new Set<string>();
  for (const layer of router.stack) {
    expect(layer.path, 'routes are paths, not patterns').to.be.a('string');
    const path = String(layer.path).replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    for (const method of layer.methods) if (method !== 'HEAD') out.add(`${method} ${path}`);
  }
  await hub.close();
  await store.close();
  return out;
}

/** Every "METHOD /path" the document describes. */
function documented(): Set<string> {
  const out = new Set<string>();
  for (const [path, item] of Object.entries(openApiDocument.paths)) {
    for (const method of Object.keys(item)) if (METHODS.includes(method)) out.add(`${method.toUpperCase()} ${path}`);
  }
  return out;
}

/** Every $ref in a JSON value. */
function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe('OpenAPI document', () => {
  it('documents every route the router knows', async () => {
    const docs = documented();
    const missing = [...(await routed())].filter((r) => !docs.has(r));
    expect(missing, 'routes without documentation').to.deep.equal([]);
  });

  it('routes everything it documents', async () => {
    const routes = await routed();
    const unrouted = [...documented()].filter((d) => !routes.has(d));
    expect(unrouted, 'documented paths without a route').to.deep.equal([]);
  });

  it('is OpenAPI 3.1 with unique operation ids and every $ref resolving', () => {
    expect(openApiDocument.openapi).to.equal('3.1.0');
    const ids = Object.values(openApiDocument.paths).flatMap((item) =>
      Object.entries(item)
        .filter(([m]) => METHODS.includes(m))
        .map(([, o]) => (o as { operationId: string }).operationId),
    );
    expect(new Set(ids).size).to.equal(ids.length);
    const resolve = (ref: string): unknown =>
      ref
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], openApiDocument);
    for (const ref of refs(openApiDocument)) expect(resolve(ref), ref).to.be.an('object');
    for (const [path, item] of Object.entries(openApiDocument.paths)) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const declared = refs((item as { parameters?: unknown }).parameters ?? [])
        .map((r) => resolve(r) as { in: string; name: string })
        .filter((p) => p.in === 'path')
        .map((p) => p.name)
        .sort();
      expect(declared, `${path} declares its path parameters`).to.deep.equal(templated);
    }
  });

  it('names the Holdline-Hold header on every answer it describes, as the server sends it', () => {
    const doc = openApiDocument as unknown as { paths: Record<string, Record<string, { responses?: Record<string, { $ref?: string; headers?: Record<string, unknown> }> }>>; components: { responses: Record<string, { headers?: Record<string, unknown> }>; headers: Record<string, { schema: { pattern: string } }> } };
    const answers = [
      ...Object.values(doc.paths).flatMap((item) => Object.entries(item).filter(([m]) => METHODS.includes(m)).flatMap(([, o]) => Object.entries(o.responses ?? {}))),
      ...Object.entries(doc.components.responses),
    ];
    expect(answers.length).to.be.above(20);
    for (const [status, answer] of answers) {
      if ('$ref' in answer) continue;
      expect(answer.headers, `${status} ${JSON.stringify(answer).slice(0, 60)}`).to.have.property('Holdline-Hold');
    }
    expect('timeout=25, min=0, max=60').to.match(new RegExp(doc.components.headers['HoldlineHold']!.schema.pattern));
  });

  it('is served at GET /openapi.json', async () => {
    const t = await startTestServer();
    try {
      const res = await fetch(`${t.url}/openapi.json`);
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal(JSON.parse(JSON.stringify(openApiDocument)));
    } finally {
      await t.close();
    }
  });
});
