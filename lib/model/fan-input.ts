import { invalid } from './errors.js';
import { onlyFields, requireObject } from './event-input.js';
import { codePointLength } from './json.js';

/**
 * Validation of what viewers send: chat text and reactions. Untrusted parsed bodies in
 * (already depth- and prototype-key-checked), typed values out, 400 naming the field otherwise.
 */

/** Longest chat message, in code points after trimming. */
export const CHAT_MAX = 500;
/** Longest reaction comment, in code points after trimming. */
export const COMMENT_MAX = 140;
/** Longest text emoticon, in code points. */
export const EMOTICON_MAX = 16;

// C0, DEL and C1 controls, lone surrogates (JSON can spell them as \ud800 escapes), and the bidi
// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which make a message or a
// name display as other text than it is ("Trojan Source" spoofing). The marks U+200E/U+200F stay:
// right-to-left writing needs them and they reorder nothing around them.
const UNSAFE = /[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069]/u;

/** True when text holds a control character or a bidi override: refused in chat, comments and names. */
export function hasUnsafeText(text: string): boolean {
  return UNSAFE.test(text);
}
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

const FLAG = /^\p{Regional_Indicator}{2}$/u;
const KEYCAP = /^[0-9#*]\uFE0F?\u20E3$/u;
// A pictograph, then modifiers, variation selectors, tags (subdivision flags) and ZWJ joins;
// a lone regional indicator is half a flag, not an emoji.
const PICTOGRAPH =
  /^(?!\p{Regional_Indicator})[\p{Extended_Pictographic}\p{Emoji_Presentation}][\p{Extended_Pictographic}\p{Emoji_Presentation}\p{Emoji_Modifier}\u200D\uFE0E\uFE0F\u{E0020}-\u{E007F}]*$/u;
// Printable: letters, marks, numbers, punctuation, symbols; no separators, controls, format
// characters, private use or unassigned code points. A mark may not come first.
const EMOTICON = new RegExp(`^[\\p{L}\\p{N}\\p{P}\\p{S}][\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}]{0,${EMOTICON_MAX - 1}}$`, 'u');
// Emoji code points: an emoticon holding one is a row of emoji, which must be sent one by one.
const EMOJI_PART = /[\p{Extended_Pictographic}\p{Emoji_Presentation}\p{Emoji_Modifier}\u200D\uFE0F\u20E3]/u;

/** True when the text is exactly one emoji grapheme (pictograph sequence, flag or keycap). */
export function isEmoji(text: string): boolean {
  // No single emoji is longer than a few dozen UTF-16 units; refuse before segmenting junk.
  if (text.length === 0 || text.length > 64) return false;
  // One code point is one grapheme: the common case skips the segmenter's allocations.
  if (text.length === 1 || (text.length === 2 && text.codePointAt(0)! > 0xffff)) return PICTOGRAPH.test(text);
  let count = 0;
  for (const _ of segmenter.segment(text)) if (++count > 1) return false;
  return FLAG.test(text) || KEYCAP.test(text) || PICTOGRAPH.test(text);
}

/** True for a short text emoticon: 1–16 printable characters, no spaces, no emoji in it. */
export function isEmoticon(text: string): boolean {
  return EMOTICON.test(text) && !EMOJI_PART.test(text);
}

/** Trims and checks a text field: length in code points, no control characters. */
function checkText(value: unknown, field: string, min: number, max: number): string {
  if (typeof value !== 'string') throw invalid(field, `${field} must be a string`);
  const text = value.trim();
  const n = codePointLength(text);
  if (n < min || n > max) throw invalid(field, `${field} must be ${min}–${max} characters after trimming`);
  if (UNSAFE.test(text)) throw invalid(field, `${field} must not contain control characters or bidi overrides`);
  return text;
}

/** The text of POST /events/:id/chat `{text}`: trimmed, 1–500 code points, no controls. */
export function parseChat(raw: unknown): string {
  const body = requireObject(raw);
  onlyFields(body, ['text']);
  if (body['text'] === undefined) throw invalid('text', 'text is required');
  return checkText(body['text'], 'text', 1, CHAT_MAX);
}

/** One reaction as the aggregator takes it. */
export interface ReactionInput {
  emoji: string;
  /** The trimmed comment, or null when none (or only blanks) was sent. */
  comment: string | null;
}

/** The body of POST /events/:id/reactions `{emoji, comment?}`. */
export function parseReaction(raw: unknown): ReactionInput {
  const body = requireObject(raw);
  onlyFields(body, ['emoji', 'comment']);
  const emoji = body['emoji'];
  if (emoji === undefined) throw invalid('emoji', 'emoji is required');
  if (typeof emoji !== 'string') throw invalid('emoji', 'emoji must be a string');
  if (!isEmoji(emoji) && !isEmoticon(emoji)) {
    throw invalid('emoji', `emoji must be one emoji, or an emoticon of 1–${EMOTICON_MAX} printable characters without spaces`);
  }
  const rawComment = body['comment'];
  if (rawComment === undefined || rawComment === null) return { emoji, comment: null };
  const comment = checkText(rawComment, 'comment', 0, COMMENT_MAX);
  return { emoji, comment: comment === '' ? null : comment };
}
