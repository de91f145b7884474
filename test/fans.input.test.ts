import { expect } from 'chai';
import { isEmoji, isEmoticon, parseChat, parseReaction } from '../lib/model/fan-input.js';
import { HubError } from '../lib/model/errors.js';

/** The field a refusal names, or a failure when nothing was refused. */
function refusedField(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(HubError);
    expect((err as HubError).status).to.equal(400);
    return (err as HubError).field;
  }
  expect.fail('expected a 400');
}

describe('fan-input: isEmoji(text)', () => {
  for (const e of ['😀', '👍🏽', '👨‍👩‍👧', '🇫🇷', '1️⃣', '#⃣', '❤️', '❤', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '©']) {
    it(`accepts the single emoji grapheme ${JSON.stringify(e)}`, () => expect(isEmoji(e)).to.equal(true));
  }
  for (const e of ['😀😀', 'a', '🇫', '😀 ', ':)', '', '😀\u0301x']) {
    it(`refuses ${JSON.stringify(e)}`, () => expect(isEmoji(e)).to.equal(false));
  }
});

describe('fan-input: isEmoticon(text)', () => {
  for (const e of [':)', '<3', '¯\\_(ツ)_/¯', 'xD', '1', '+1', 'x'.repeat(16), '__proto__']) {
    it(`accepts ${JSON.stringify(e)}`, () => expect(isEmoticon(e)).to.equal(true));
  }
  for (const e of [': )', 'x'.repeat(17), '', '\u0301a', 'a\u200b', 'a\tb', '😀😀', 'ok👍', '\u00a0']) {
    it(`refuses ${JSON.stringify(e)}`, () => expect(isEmoticon(e)).to.equal(false));
  }
});

describe('fan-input: parseChat(body)', () => {
  it('trims the text', () => expect(parseChat({ text: '  hello  ' })).to.equal('hello'));
  it('counts length in code points, not UTF-16 units', () => {
    expect(parseChat({ text: '😀'.repeat(500) })).to.have.length(1000);
    expect(refusedField(() => parseChat({ text: '😀'.repeat(501) }))).to.equal('text');
  });
  it('refuses text that is empty after trimming', () => expect(refusedField(() => parseChat({ text: '   ' }))).to.equal('text'));
  it('refuses control characters inside the text', () => {
    for (const t of ['a\nb', 'a\u0000b', 'a\u007fb', 'a\u009bb', 'a\ud800b']) expect(refusedField(() => parseChat({ text: t }))).to.equal('text');
  });
  it('refuses a missing, non-string text and unknown fields', () => {
    expect(refusedField(() => parseChat({}))).to.equal('text');
    expect(refusedField(() => parseChat({ text: 5 }))).to.equal('text');
    expect(refusedField(() => parseChat({ text: 'hi', color: 'red' }))).to.equal('color');
    expect(refusedField(() => parseChat('hi'))).to.equal('body');
  });
});

describe('fan-input: parseReaction(body)', () => {
  it('takes an emoji without comment', () => expect(parseReaction({ emoji: '🎉' })).to.deep.equal({ emoji: '🎉', comment: null }));
  it('takes an emoticon with a trimmed comment', () =>
    expect(parseReaction({ emoji: ':)', comment: ' what a goal ' }, [':)'])).to.deep.equal({ emoji: ':)', comment: 'what a goal' }));
  it('treats a blank or null comment as none', () => {
    expect(parseReaction({ emoji: ':)', comment: '  ' }, [':)']).comment).to.equal(null);
    expect(parseReaction({ emoji: ':)', comment: null }, [':)']).comment).to.equal(null);
  });
  it('refuses two emoji, spaces, a too long emoticon and a non-string', () => {
    for (const emoji of ['😀😀', ': )', 'x'.repeat(17), 7, '']) expect(refusedField(() => parseReaction({ emoji }))).to.equal('emoji');
    // A text emoticon only when the event lists it (issue 15).
    expect(refusedField(() => parseReaction({ emoji: ':)' }))).to.equal('emoji');
    expect(refusedField(() => parseReaction({ emoji: 'gg' }, [':)']))).to.equal('emoji');
    expect(refusedField(() => parseReaction({}))).to.equal('emoji');
  });
  it('refuses a comment over 140 code points or with control characters', () => {
    expect(parseReaction({ emoji: '🎉', comment: '😀'.repeat(140) }).comment).to.have.length(280);
    expect(refusedField(() => parseReaction({ emoji: '🎉', comment: 'x'.repeat(141) }))).to.equal('comment');
    expect(refusedField(() => parseReaction({ emoji: '🎉', comment: 'a\u0007b' }))).to.equal('comment');
    expect(refusedField(() => parseReaction({ emoji: '🎉', comment: 3 }))).to.equal('comment');
  });
});
