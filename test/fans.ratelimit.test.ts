import { expect } from 'chai';
import { createEvent, expectError, freshId, startHarness, type Harness } from './support/harness.js';

/** Seconds left in the fixed window (of windowMs) that `now` falls in, as Retry-After says them. */
function retryAfter(now: number, windowMs: number): string {
  return String(Math.max(1, Math.ceil((windowMs - (now % windowMs)) / 1000)));
}

describe('rate limits per identity (RATE_CHAT, RATE_REACTIONS)', () => {
  let h: Harness;
  let id: string;
  before(async () => {
    h = await startHarness();
    id = freshId('rate');
    await createEvent(h, id, { state: 'live' });
  });
  after(async () => {
    await h.close();
  });
  /** Moves the fake clock to the start of the next 10 s window, so each test starts afresh. */
  beforeEach(() => h.clock.advance(10_000 - (h.clock.now() % 10_000)));

  it('allows 5 chat messages per 10 s per sub, then 429 rate_limited with Retry-After', async () => {
    const token = await h.token({ sub: 'chatty' });
    const chat = () => h.http().post(`/events/${id}/chat`).set('Authorization', `Bearer ${token}`).send({ text: 'hi' });
    for (let i = 0; i < 5; i++) expect((await chat()).status).to.equal(201);
    const refused = await chat();
    expectError(refused, 429, 'rate_limited');
    expect(refused.headers['retry-after']).to.equal('10');
    h.clock.advance(3500);
    const later = await chat();
    expectError(later, 429, 'rate_limited');
    expect(later.headers['retry-after']).to.equal(retryAfter(h.clock.now(), 10_000)).and.equal('7');
    h.clock.advance(6500);
    expect((await chat()).status).to.equal(201);
  });

  it('counts each sub on its own', async () => {
    const a = await h.token({ sub: 'a-user' });
    const b = await h.token({ sub: 'b-user' });
    for (let i = 0; i < 5; i++) await h.http().post(`/events/${id}/chat`).set('Authorization', `Bearer ${a}`).send({ text: 'x' });
    expectError(await h.http().post(`/events/${id}/chat`).set('Authorization', `Bearer ${a}`).send({ text: 'x' }), 429, 'rate_limited');
    expect((await h.http().post(`/events/${id}/chat`).set('Authorization', `Bearer ${b}`).send({ text: 'x' })).status).to.equal(201);
  });

  it('does not spend the budget on refused or replayed requests', async () => {
    const token = await h.token({ sub: 'careful' });
    const chat = (body: object) => h.http().post(`/events/${id}/chat`).set('Authorization', `Bearer ${token}`).send(body);
    for (let i = 0; i < 10; i++) expectError(await chat({ text: '' }), 400, 'invalid_request', 'text');
    await chat({ text: 'once' }).set('Idempotency-Key', 'same');
    for (let i = 0; i < 10; i++) expect((await chat({ text: 'once' }).set('Idempotency-Key', 'same')).headers['idempotent-replayed']).to.equal('true');
    for (let i = 0; i < 4; i++) expect((await chat({ text: 'more' })).status).to.equal(201);
    expectError(await chat({ text: 'one too many' }), 429, 'rate_limited');
  });

  it('allows 20 reactions per 10 s per viewer id, then 429 with Retry-After ≥ 1', async () => {
    const react = (viewer: string) => h.http().post(`/events/${id}/reactions?viewer=${viewer}`).send({ emoji: '👍' });
    for (let i = 0; i < 20; i++) expect((await react('fan1')).status).to.equal(202);
    const refused = await react('fan1');
    expectError(refused, 429, 'rate_limited');
    expect(refused.headers['retry-after']).to.equal('10');
    expect((await react('fan2')).status).to.equal(202);
    h.clock.advance(9_999);
    const last = await react('fan1');
    expectError(last, 429, 'rate_limited');
    expect(last.headers['retry-after']).to.equal('1');
  });

  it('limits anonymous reactions without a viewer id by client address', async () => {
    const react = () => h.http().post(`/events/${id}/reactions`).send({ emoji: '👏' });
    for (let i = 0; i < 20; i++) expect((await react()).status).to.equal(202);
    expectError(await react(), 429, 'rate_limited');
  });

  it('limits reactions of a token by its sub, whatever viewer id it sends', async () => {
    const token = await h.token({ sub: 'tokened' });
    const react = (viewer: string) =>
      h.http().post(`/events/${id}/reactions?viewer=${viewer}`).set('Authorization', `Bearer ${token}`).send({ emoji: '🙌' });
    for (let i = 0; i < 20; i++) expect((await react(`v${i}`)).status).to.equal(202);
    expectError(await react('fresh'), 429, 'rate_limited');
  });
});
