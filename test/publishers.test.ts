import { expect } from 'chai';
import { HoldlineClient } from '../tools/client.js';
import type { JsonObject, NoticeDelta } from '../lib/protocol.js';
import { PublisherApi } from '../demo/api.js';
import { OPERA_GAME, playChess } from '../demo/chess.js';
import { playFootball } from '../demo/football.js';
import { playWorkout } from '../demo/workout.js';
import { startTestServer, type TestServer } from './support/server.js';

/** Follows an event from `cursor` until a notice of `type` arrives; returns the notices seen and the score then. */
async function until(viewer: HoldlineClient, eventId: string, cursor: string, type: string): Promise<{ notices: NoticeDelta['data'][]; score: JsonObject }> {
  const notices: NoticeDelta['data'][] = [];
  for (;;) {
    const answer = await viewer.poll(eventId, cursor, { timeoutS: 5 });
    cursor = answer.cursor;
    for (const d of answer.deltas) {
      if (d.kind !== 'notice') continue;
      notices.push(d.data);
      if (d.type === type) return { notices, score: (await viewer.getEvent(eventId)).snapshot.score };
    }
  }
}

describe('demo: the demo events, played fast', function () {
  this.timeout(60_000);
  let server: TestServer;
  let api: PublisherApi;
  let viewer: HoldlineClient;
  const stop = new AbortController();
  before(async () => {
    server = await startTestServer();
    api = new PublisherApi(server.url, server.adminToken);
    viewer = new HoldlineClient({ baseUrl: server.url });
  });
  after(async () => {
    stop.abort();
    await server.close();
  });

  /** Creates the event first, so the viewer's cursor is before the publisher's first delta. */
  async function start(eventId: string, play: () => Promise<void>): Promise<string> {
    await api.putEvent(eventId, {});
    const cursor = (await viewer.poll(eventId, null)).cursor;
    play().catch((err: unknown) => {
      if (!stop.signal.aborted) console.error(err);
    });
    return cursor;
  }

  it('football: a match with goals, cards, substitutions and injuries ends 3-1', async () => {
    const cursor = await start('pf', () => playFootball(api, 'pf', 1, stop.signal));
    const { notices, score } = await until(viewer, 'pf', cursor, 'fulltime');
    expect(notices.map((n) => n.title)).to.include.members(['GOAL! Riverside Rovers 1-0', 'Red card: Okafor (Harbour United)', 'Full time: 3-1']);
    expect(score['home']).to.deep.include({ name: 'Riverside Rovers', goals: 3 });
    expect(score['away']).to.deep.include({ goals: 1 });
    expect((score['events'] as JsonObject[]).map((e) => e['type'])).to.include.members(['goal', 'yellow', 'red', 'sub', 'injury']);
  });

  it('chess: the Opera Game ends in mate with the FEN of the final position', async () => {
    const cursor = await start('pc', () => playChess(api, 'pc', 1, stop.signal));
    const { score } = await until(viewer, 'pc', cursor, 'mate');
    expect(score['fen']).to.equal(OPERA_GAME[OPERA_GAME.length - 1]![1]);
    expect(score['moves']).to.have.length(33);
    expect(score['result']).to.equal('1-0');
  });

  it('workout: goals arrive as notices of type goal', async () => {
    const cursor = await start('pw', () => playWorkout(api, 'pw', 1, stop.signal));
    const { notices, score } = await until(viewer, 'pw', cursor, 'done');
    expect(notices.map((n) => n.title)).to.include.members(['Goal reached: 25 reps', 'Goal reached: 50 reps', 'Goal reached: 50 kcal']);
    expect(score['totalReps']).to.equal(88);
  });
});
