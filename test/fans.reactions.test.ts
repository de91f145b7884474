import { expect } from 'chai';
import { FakeClock } from '../lib/util/clock.js';
import { HubError } from '../lib/model/errors.js';
import { ReactionWindows, type ReactionsDraft, type WindowOnce } from '../lib/fans/reactions.js';

/** Sum of every count of some drafts. */
function total(drafts: ReactionsDraft[]): number {
  return drafts.reduce((n, d) => n + Object.values(d.counts).reduce((a, b) => a + b, 0), 0);
}

/** A ReactionWindows over a fake clock whose appends land in `appended` (or fail on demand). */
function setup(windowMs = 1000) {
  const clock = new FakeClock();
  const appended: Array<{ eventId: string; draft: ReactionsDraft }> = [];
  const lines: string[] = [];
  const control = { fail: 0, error: new HubError('unavailable', 'store down') as Error };
  /** Every WindowOnce sent, failed attempts included. */
  const onces: WindowOnce[] = [];
  const windows = new ReactionWindows(
    clock,
    async (eventId, draft, once) => {
      onces.push(once);
      if (control.fail > 0) {
        control.fail -= 1;
        throw control.error;
      }
      appended.push({ eventId, draft: structuredClone(draft) });
    },
    { windowMs, log: (line) => lines.push(line) },
  );
  /** Advances one window and waits for the flush it started. */
  const tick = async (ms = windowMs) => {
    clock.advance(ms);
    await windows.settled();
  };
  return { clock, windows, appended, lines, control, tick, onces };
}

describe('ReactionWindows (lib/fans/reactions.ts)', () => {
  it('folds 300 reactions of one window into one delta whose counts add up to 300', async () => {
    const { windows, appended, tick, clock } = setup();
    const start = clock.now();
    for (let i = 0; i < 300; i++) windows.add('m1', ['🎉', '👏', ':)'][i % 3]!, null, null);
    await tick();
    expect(appended).to.have.length(1);
    expect(appended[0]!.draft.counts).to.deep.equal({ '🎉': 100, '👏': 100, ':)': 100 });
    expect(total(appended.map((a) => a.draft))).to.equal(300);
    expect(appended[0]!.draft.window).to.deep.equal({ from: start, to: start + 1000 });
  });

  it('appends nothing for a window without reactions, and stops its timer when idle', async () => {
    const { windows, appended, tick } = setup();
    windows.add('m1', '🎉', null, null);
    await tick();
    await tick();
    await tick();
    expect(appended).to.have.length(1);
    expect(windows.armed).to.equal(false);
  });

  it('adds at most one delta per event per window during a flood, and loses none', async () => {
    const { windows, appended, tick } = setup();
    let sent = 0;
    for (let w = 0; w < 20; w++) {
      const before = appended.length;
      for (let i = 0; i < 5000; i++, sent++) windows.add(i % 2 ? 'm1' : 'm2', '🔥', null, null);
      await tick();
      expect(appended.length - before).to.be.at.most(2);
    }
    expect(total(appended.map((a) => a.draft))).to.equal(sent);
  });

  it('keeps consecutive windows: each delta starts where the previous one ended', async () => {
    const { windows, appended, tick } = setup(250);
    for (let w = 0; w < 4; w++) {
      windows.add('m1', '⚽', null, null);
      await tick();
    }
    for (let i = 1; i < appended.length; i++) expect(appended[i]!.draft.window.from).to.equal(appended[i - 1]!.draft.window.to);
  });

  it('retries a window whose append failed unchanged and with the same id, then the next one, reporting the failure', async () => {
    const { windows, appended, tick, control, lines, onces } = setup();
    for (let i = 0; i < 10; i++) windows.add('m1', '🎉', null, null);
    control.fail = 1;
    const from = (await tick(), appended.length);
    expect(from).to.equal(0);
    expect(lines.join('\n')).to.match(/failed; retrying/);
    for (let i = 0; i < 5; i++) windows.add('m1', '👏', null, null);
    await tick();
    // Never merged: the failed append may have landed, and only its own id lets the store tell.
    expect(appended).to.have.length(1);
    expect(appended[0]!.draft.counts).to.deep.equal({ '🎉': 10 });
    expect(onces[1]).to.deep.equal(onces[0]);
    await tick();
    expect(appended).to.have.length(2);
    expect(appended[1]!.draft.counts).to.deep.equal({ '👏': 5 });
    expect(onces[2]!.source).to.equal(onces[0]!.source);
    expect(onces[2]!.window).to.be.above(onces[0]!.window);
    expect(total(appended.map((a) => a.draft))).to.equal(15);
  });

  it('lets a slow append cover the next tick instead of adding a second delta to it', async () => {
    const clock = new FakeClock();
    const appended: ReactionsDraft[] = [];
    let release: () => void = () => undefined;
    const windows = new ReactionWindows(
      clock,
      (_id, draft) =>
        new Promise<void>((resolve) => {
          release = () => (appended.push(draft), resolve());
        }),
      { windowMs: 1000, log: () => undefined },
    );
    windows.add('m1', '🎉', null, null);
    clock.advance(1000);
    windows.add('m1', '🎉', null, null);
    clock.advance(1000);
    release();
    await windows.settled();
    expect(appended).to.have.length(1);
    windows.add('m1', '🎉', null, null);
    clock.advance(1000);
    release();
    await windows.settled();
    expect(total(appended)).to.equal(3);
    windows.stop();
  });

  it('keeps at most 20 samples, only reactions with comments, with their sender', async () => {
    const { windows, appended, tick } = setup();
    for (let i = 0; i < 100; i++) windows.add('m1', '🎉', i % 2 ? `comment ${i}` : null, i % 4 === 1 ? null : `v${i}`);
    await tick();
    const { samples } = appended[0]!.draft;
    expect(samples).to.have.length(20);
    for (const s of samples) {
      expect(s.comment).to.match(/^comment \d+$/);
      expect(s.emoji).to.equal('🎉');
      const n = Number(s.comment.split(' ')[1]);
      expect(s.user).to.equal(n % 4 === 1 ? null : `v${n}`);
    }
  });

  it('keeps an emoticon spelling __proto__ as an own key of counts', async () => {
    const { windows, appended, tick } = setup();
    windows.add('m1', '__proto__', null, null);
    await tick();
    expect(Object.keys(appended[0]!.draft.counts)).to.deep.equal(['__proto__']);
    expect(JSON.stringify(appended[0]!.draft.counts)).to.equal('{"__proto__":1}');
  });

  it('refuses a new distinct emoji beyond the bound with 429, but still counts known ones', () => {
    const clock = new FakeClock();
    const windows = new ReactionWindows(clock, async () => undefined, { windowMs: 1000, maxDistinct: 2, log: () => undefined });
    windows.add('m1', 'a', null, null);
    windows.add('m1', 'b', null, null);
    expect(() => windows.add('m1', 'c', null, null)).to.throw(HubError).with.property('code', 'rate_limited');
    expect(() => windows.check('m1', 'c')).to.throw(HubError).with.property('code', 'rate_limited');
    windows.check('m1', 'a');
    windows.add('m1', 'a', null, null);
    expect(windows.pendingCount).to.equal(3);
    windows.stop();
  });

  it('refuses with check() exactly what add() would, changing nothing', async () => {
    const clock = new FakeClock();
    const windows = new ReactionWindows(clock, async () => undefined, { windowMs: 1000, maxDistinct: 1, log: () => undefined });
    windows.check('m1', 'a');
    expect(windows.armed, 'a check arms no window').to.equal(false);
    expect(windows.pendingCount).to.equal(0);
    await windows.close();
    expect(() => windows.check('m1', 'a')).to.throw(HubError).with.property('code', 'draining');
    expect(() => windows.add('m1', 'a', null, null)).to.throw(HubError).with.property('code', 'draining');
    expect(windows.pendingCount).to.equal(0);
  });

  it('flushes the open window on close, stops its timer, and refuses reactions after', async () => {
    const { windows, appended, clock } = setup();
    windows.add('m1', '🎉', null, null);
    clock.advance(400);
    await windows.close();
    expect(total(appended.map((a) => a.draft))).to.equal(1);
    expect(windows.armed).to.equal(false);
    expect(clock.activeTimers).to.equal(0);
    expect(() => windows.add('m1', '🎉', null, null)).to.throw(HubError).with.property('code', 'draining');
  });

  it('retries the final flush on close, and reports what it could not append', async () => {
    const { windows, appended, control, lines } = setup();
    windows.add('m1', '🎉', null, null);
    control.fail = 1;
    await windows.close();
    expect(appended).to.have.length(1);
    const second = setup();
    second.windows.add('m1', '🎉', null, null);
    second.control.fail = 99;
    await second.windows.close();
    expect(second.appended).to.have.length(0);
    expect(second.lines.join('\n')).to.match(/1 reactions of event m1 could not be appended and are lost/);
    expect(lines.join('\n')).to.not.match(/lost/);
  });

  it('drops the counts of a deleted event with a log line instead of retrying forever', async () => {
    const { windows, appended, control, lines, tick } = setup();
    windows.add('gone', '🎉', null, null);
    control.fail = 1;
    control.error = new HubError('not_found', 'no event gone');
    await tick();
    expect(windows.pendingCount).to.equal(0);
    expect(appended).to.have.length(0);
    expect(lines.join('\n')).to.match(/deleted/);
  });
});
