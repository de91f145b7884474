/**
 * For the fast-path tests: two extra servers on the harness's hub, one running a fast route with
 * a recording fallback to the Koa app, the other only the Koa app, so a test can tell which
 * requests the fast route took and compare its answers with Koa's.
 */
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Response } from 'supertest';
import { createApp } from '../../lib/http/app.js';
import type { FastDeps, FastRoute } from '../../lib/http/fast-path.js';
import { createLogger } from '../../lib/ops/log.js';
import { startHarness, type Harness } from './harness.js';
import { sample } from './metrics.js';

/** Headers whose values differ between any two answers, whichever path made them. */
const PER_ANSWER = new Set(['date', 'x-request-id', 'keep-alive', 'connection']);

/** What of an answer must be equal on both paths: status, body, and every header but PER_ANSWER. */
export function comparable(res: Response): Record<string, unknown> {
  const headers = Object.fromEntries(Object.entries(res.headers).filter(([name]) => !PER_ANSWER.has(name)));
  return { status: res.status, headers, body: res.text };
}

export interface FastPair {
  fastUrl: string;
  koaUrl: string;
  /** URLs the fast route handed to Koa (clear it before a request to check). */
  fellBack: string[];
  /** Sends one request to the fast server (`send` gets its URL); true when the fast route answered it without Koa. */
  takenFast(send: (url: string) => PromiseLike<unknown>): Promise<boolean>;
  /**
   * Sends each case to the Koa server, then to the fast one (`send` gets the URL and whether it
   * is Koa's): the fast route must answer it itself, with Koa's status, body and headers.
   */
  expectAnswersAsKoa(cases: ReadonlyArray<readonly [name: string, send: (url: string, koa: boolean) => PromiseLike<Response>]>): Promise<void>;
  /** holdline_http_responses_total of the harness's server for one method, route template and status, now. */
  responses(method: string, route: string, status: string): Promise<number>;
  close(): Promise<void>;
}

/** Starts the two servers for `create` (createFastPoll, createFastReactions) on the harness's hub. */
export async function startFastPair(h: Harness, create: (deps: FastDeps) => FastRoute): Promise<FastPair> {
  const { hub, config, metrics, auth } = h.service;
  const logger = createLogger('silent');
  const deps = { hub, config, metrics, auth, logger };
  const koa = createApp(deps).callback();
  const fast = create({ ...deps, log: () => undefined });
  const servers: http.Server[] = [];
  const fellBack: string[] = [];
  const listen = async (handler: http.RequestListener): Promise<string> => {
    const server = http.createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const fastUrl = await listen((req, res) =>
    fast(req, res, () => {
      fellBack.push(req.url ?? '');
      void koa(req, res);
    }),
  );
  const koaUrl = await listen((req, res) => void koa(req, res));
  return {
    fastUrl,
    koaUrl,
    fellBack,
    async takenFast(send) {
      fellBack.length = 0;
      await send(fastUrl);
      return fellBack.length === 0;
    },
    async expectAnswersAsKoa(cases) {
      for (const [name, send] of cases) {
        const viaKoa = await send(koaUrl, true);
        fellBack.length = 0;
        const viaFast = await send(fastUrl, false);
        expect(fellBack, `${name} was handed to Koa, not answered by the fast route`).to.deep.equal([]);
        expect(comparable(viaFast), name).to.deep.equal(comparable(viaKoa));
        expect(viaFast.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
      }
    },
    async responses(method, route, status) {
      return sample((await metrics.render()).body, 'holdline_http_responses_total', { method, route, status }) ?? 0;
    },
    async close() {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise((resolve) => s.close(resolve));
      }
    },
  };
}

/** A fast-path test's world: the harness and the pair, filled in by useFastPair's before hook. */
export interface FastWorld extends FastPair {
  h: Harness;
}

/** Registers mocha hooks that start the harness (with `settings`) and the pair before the tests and close both after. */
export function useFastPair(settings: Partial<Record<string, string>>, create: (deps: FastDeps) => FastRoute): FastWorld {
  const world = {} as FastWorld;
  before(async () => {
    const h = await startHarness(settings);
    Object.assign(world, await startFastPair(h, create), { h });
  });
  after(async () => {
    await world.close();
    await world.h.close();
  });
  return world;
}
