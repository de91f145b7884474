import { expect } from 'chai';
import { HubError } from '../../lib/model/errors.js';
import { runIdempotent } from '../../lib/idempotency.js';
import { MemoryStore } from '../../lib/store/memory/store.js';

const store = () => new MemoryStore({ ringSize: 8, chatHistory: 3, maxEvents: 5, idempotencyTtlMs: 60_000, idempotencyMax: 100 });

describe('runIdempotent (lib/idempotency.ts)', () => {
  it('runs once and replays the first answer for an equal body; another body is a conflict', async () => {
    const s = store();
    let runs = 0;
    const run = async () => ({ status: 201, body: `{"n":${++runs}}` });
    expect(await runIdempotent(s, 'sub:a', 'k', { x: 1 }, 0, run)).to.deep.equal({ status: 201, body: '{"n":1}', replayed: false });
    expect(await runIdempotent(s, 'sub:a', 'k', { x: 1 }, 1, run)).to.deep.equal({ status: 201, body: '{"n":1}', replayed: true });
    const conflict = await runIdempotent(s, 'sub:a', 'k', { x: 2 }, 2, run).catch((e: unknown) => e);
    expect(conflict).to.be.instanceOf(HubError).with.property('code', 'idempotency_conflict');
    expect(runs).to.equal(1);
    await s.close();
  });

  it('answers a write that happened even when recording its answer fails', async () => {
    const s = store();
    s.completeIdempotent = () => Promise.reject(new HubError('unavailable', 'the store is unavailable'));
    let runs = 0;
    const answer = await runIdempotent(s, 'sub:a', 'k', {}, 0, async () => ({ status: 201, body: `{"n":${++runs}}` }));
    expect(answer).to.deep.equal({ status: 201, body: '{"n":1}', replayed: false });
    // Not recorded: a repeat meanwhile finds the key still reserved rather than writing again.
    const repeat = await runIdempotent(s, 'sub:a', 'k', {}, 1, async () => ({ status: 201, body: `{"n":${++runs}}` })).catch((e: unknown) => e);
    expect(repeat).to.be.instanceOf(HubError).with.property('code', 'idempotency_conflict');
    expect(runs).to.equal(1);
    await s.close();
  });

  it('forgets a failed write, so it may be retried', async () => {
    const s = store();
    const failed = await runIdempotent(s, 'sub:a', 'k', {}, 0, () => Promise.reject(new HubError('event_ended', 'ended'))).catch((e: unknown) => e);
    expect(failed).to.be.instanceOf(HubError).with.property('code', 'event_ended');
    expect((await runIdempotent(s, 'sub:a', 'k', {}, 1, async () => ({ status: 201, body: '{}' }))).replayed).to.equal(false);
    await s.close();
  });
});
