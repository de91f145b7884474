/**
 * The real service (bin/holdline.ts startService) on 127.0.0.1 and a free port, driven by a
 * FakeClock: holds end only when a test advances the clock, so nothing here waits on wall time.
 * Plus the small HTTP helpers the HTTP test files share.
 */
import { expect } from 'chai';
import request from 'supertest';
import { startService, type Service } from '../../bin/holdline.js';
import { FakeClock } from '../../lib/util/clock.js';
import { loadConfig } from '../../lib/config.js';
import type { Hub } from '../../lib/hub.js';
import type { EventDetail, PollAnswer } from '../../lib/protocol.js';
import { TEST_METRICS_TOKEN, TEST_SECRET, purgeStore, storeSettings } from './server.js';

export interface Claims {
  sub?: string;
  name?: string;
  scope?: string;
  events?: string[];
}

export interface Harness {
  url: string;
  service: Service;
  hub: Hub;
  clock: FakeClock;
  /** `publish admin`, sub "admin". */
  adminToken: string;
  /** `publish`, sub "scorer". */
  publisherToken: string;
  token(claims: Claims, ttlS?: number): Promise<string>;
  /** supertest bound to the server's URL. */
  http(): ReturnType<typeof request>;
  close(): Promise<void>;
}

/** Starts the service with a FakeClock; `overrides` are environment-style settings. */
export async function startHarness(overrides: Partial<Record<string, string>> = {}): Promise<Harness> {
  const settings = storeSettings();
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', JWT_SECRET: TEST_SECRET, METRICS_TOKEN: TEST_METRICS_TOKEN, DRAIN_TIMEOUT_MS: '2000', LOG_LEVEL: 'silent', ...settings, ...overrides });
  const clock = new FakeClock(Date.now());
  const service = await startService(config, { clock });
  const adminToken = await service.auth.mint({ sub: 'admin', scope: 'publish admin' });
  const publisherToken = await service.auth.mint({ sub: 'scorer', scope: 'publish' });
  return {
    url: service.url,
    service,
    hub: service.hub,
    clock,
    adminToken,
    publisherToken,
    token: (claims, ttlS) => service.auth.mint(claims, ttlS),
    http: () => request(service.url),
    close: async () => {
      await service.close();
      await purgeStore(settings);
    },
  };
}

let counter = 0;
/** A fresh event id per call, so tests sharing a server never share an event. */
export function freshId(prefix = 'ev'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

/** Resolves after ms of wall time (for letting in-flight work settle, never for assertions on time). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves like `promise`, or with `fallback` after ms; the timer is cleared either way (so mocha can exit). */
export async function orAfter<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until cond() holds, checking every few ms; fails naming `what` after timeoutMs. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** PUT /events/:id as admin; returns the event. */
export async function createEvent(h: Harness, id: string, body: Record<string, unknown> = {}): Promise<EventDetail> {
  const res = await h.http().put(`/events/${id}`).set('Authorization', `Bearer ${h.adminToken}`).send(body);
  expect(res.status, res.text).to.be.oneOf([200, 201]);
  return res.body as EventDetail;
}

/** POST /events/:id/scores as admin; returns {seq, cursor}. */
export async function postScore(h: Harness, id: string, body: Record<string, unknown>): Promise<{ seq: number; cursor: string }> {
  const res = await h.http().post(`/events/${id}/scores`).set('Authorization', `Bearer ${h.adminToken}`).send(body);
  expect(res.status, res.text).to.equal(201);
  return res.body as { seq: number; cursor: string };
}

/** POST /events/:id/notices as admin; returns {seq, cursor}. */
export async function postNotice(h: Harness, id: string, body: Record<string, unknown>): Promise<{ seq: number; cursor: string }> {
  const res = await h.http().post(`/events/${id}/notices`).set('Authorization', `Bearer ${h.adminToken}`).send(body);
  expect(res.status, res.text).to.equal(201);
  return res.body as { seq: number; cursor: string };
}

/** GET /events/:id as admin. */
export async function getEvent(h: Harness, id: string): Promise<EventDetail> {
  const res = await h.http().get(`/events/${id}`).set('Authorization', `Bearer ${h.adminToken}`);
  expect(res.status, res.text).to.equal(200);
  return res.body as EventDetail;
}

/** One poll as an anonymous client (query string given as is); returns status and body. */
export async function poll(h: Harness, id: string, query: string): Promise<{ status: number; body: PollAnswer & { error?: { code: string; field?: string } } }> {
  const res = await h.http().get(`/events/${id}/poll${query ? `?${query}` : ''}`);
  return { status: res.status, body: res.body as PollAnswer & { error?: { code: string; field?: string } } };
}

/**
 * Runs `refused` (a write that must fail) and asserts the event's head cursor and snapshot are
 * what they were before: a request that fails changes nothing.
 */
export async function expectUnchanged(h: Harness, id: string, refused: () => Promise<unknown>): Promise<void> {
  const before = await getEvent(h, id);
  await refused();
  const after = await getEvent(h, id);
  expect(after.cursor, 'head cursor').to.equal(before.cursor);
  expect(after.snapshot, 'snapshot').to.deep.equal(before.snapshot);
  expect(after.meta, 'meta').to.deep.equal(before.meta);
  expect(after.state, 'state').to.equal(before.state);
}

/** Asserts the protocol's error shape and returns the error. */
export function expectError(
  res: { status: number; body: unknown; headers: Record<string, string | string[] | undefined>; text?: string },
  status: number,
  code: string,
  field?: string,
): { code: string; message: string; field?: string } {
  expect(res.status, res.text).to.equal(status);
  expect(String(res.headers['content-type'])).to.match(/^application\/json/);
  const body = res.body as { error?: { code: string; message: string; field?: string } };
  expect(body).to.have.property('error');
  const error = body.error!;
  expect(error.code).to.equal(code);
  expect(error.message).to.be.a('string').and.not.equal('');
  if (field !== undefined) expect(error.field, 'error.field').to.equal(field);
  expect(Object.keys(body)).to.deep.equal(['error']);
  return error;
}
