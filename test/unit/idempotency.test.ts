import { expect } from 'chai';
import { HubError } from '../../lib/model/errors.js';
import { runIdempotent, type IdempotencyTicket } from '../../lib/idempotency.js';
import { MemoryStore } from '../../lib/store/memory/store.js';
import { APPEND_MARKS, fillAppendMarks } from '../../lib/store/types.js';

const store = async () => {
  const s = new MemoryStore({ ringSize: 8, chatHistory: 3, maxEvents: 5, idempotencyTtlMs: 60_000, idempotencyMax: 100 });
  await s.createEvent('m1', { title: 'm1', sport: 'test', visibility: 'public' }, 'live', 0);
  return s;
};

/** A write as the hub makes one: an appendOnce that records its answer under the ticket. */
function appending(s: MemoryStore, counter: { runs: number }) {
  return async (ticket: IdempotencyTicket) => {
    counter.runs += 1;
    const body = `{"seq":${APPEND_MARKS.seq}}`;
    const result = await s.appendOnce('m1', { kind: 'notice', data: { title: 't' } }, { now: 1 }, { request: ticket.key, fingerprint: ticket.fingerprint, status: 201, body });
    if (!result.appended) return { status: result.recorded!.status, body: result.recorded!.body, replayed: true };
    return { status: 201, body: fillAppendMarks(body, result.epoch, result.entry.seq, result.entry.tag) };
  };
}

describe('runIdempotent (lib/idempotency.ts)', () => {
  it('runs once and replays the answer the append recorded for an equal body; another body is a conflict', async () => {
    const s = await store();
    const counter = { runs: 0 };
    const run = appending(s, counter);
    expect(await runIdempotent(s, 'publisher a /x', 'k', { x: 1 }, 0, run)).to.deep.equal({ status: 201, body: '{"seq":1}', replayed: false });
    expect(await runIdempotent(s, 'publisher a /x', 'k', { x: 1 }, 1, run)).to.deep.equal({ status: 201, body: '{"seq":1}', replayed: true });
    const conflict = await runIdempotent(s, 'publisher a /x', 'k', { x: 2 }, 2, run).catch((e: unknown) => e);
    expect(conflict).to.be.instanceOf(HubError).with.property('code', 'idempotency_conflict');
    expect(counter.runs).to.equal(1);
    expect((await s.read('m1', 0, 10))!.entries).to.have.length(1);
    await s.close();
  });

  it('keeps the key when the outcome is unknown (503): a retry is 409 in progress, never a second write', async () => {
    const s = await store();
    const failed = await runIdempotent(s, 'publisher a /x', 'k', {}, 0, () => Promise.reject(new HubError('unavailable', 'Redis timed out'))).catch((e: unknown) => e);
    expect(failed).to.be.instanceOf(HubError).with.property('code', 'unavailable');
    const counter = { runs: 0 };
    const repeat = await runIdempotent(s, 'publisher a /x', 'k', {}, 1, appending(s, counter)).catch((e: unknown) => e);
    expect(repeat).to.be.instanceOf(HubError).with.property('code', 'idempotency_conflict');
    expect(counter.runs).to.equal(0);
    await s.close();
  });

  it('forgets a write refused outright, so it may be retried', async () => {
    const s = await store();
    const failed = await runIdempotent(s, 'publisher a /x', 'k', {}, 0, () => Promise.reject(new HubError('event_ended', 'ended'))).catch((e: unknown) => e);
    expect(failed).to.be.instanceOf(HubError).with.property('code', 'event_ended');
    expect((await runIdempotent(s, 'publisher a /x', 'k', {}, 1, appending(s, { runs: 0 }))).replayed).to.equal(false);
    await s.close();
  });
});
