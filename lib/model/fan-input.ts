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

// Printable: letters, marks, numbers, punctuation, symbols; no separators, controls, format
// characters, private use or unassigned code points. A mark may not come first.
const EMOTICON = new RegExp(`^[\\p{L}\\p{N}\\p{P}\\p{S}][\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}]{0,${EMOTICON_MAX - 1}}$`, 'u');
// Emoji code points: an emoticon holding one is a row of emoji, which must be sent one by one.
const EMOJI_PART = /[\p{Extended_Pictographic}\p{Emoji_Presentation}\p{Emoji_Modifier}\u200D\uFE0F\u20E3]/u;

// Unicode's recommended-for-general-interchange emoji (Node 20's RegExp `v` flag knows the
// sequences): a bounded set, where "any pictograph with any modifiers and joiners" let a
// client make up new keys forever. Built at run time: the `v` flag is newer than our TS target.
const RGI = new RegExp('^\\p{RGI_Emoji}$', 'v');

/**
 * True when the text is exactly one RGI emoji (a pictograph sequence, flag, keycap or tag
 * sequence), also when written without its emoji presentation selector (U+FE0F), as ❤ for ❤️
 * or #⃣ for #️⃣.
 */
export function isEmoji(text: string): boolean {
  // No RGI emoji is longer than a few dozen UTF-16 units; refuse junk before the regex.
  if (text.length === 0 || text.length > 64) return false;
  if (RGI.test(text) || RGI.test(`${text}\uFE0F`)) return true;
  // A keycap written without its selector: #⃣ for #️⃣.
  const first = String.fromCodePoint(text.codePointAt(0)!);
  return RGI.test(`${first}\uFE0F${text.slice(first.length)}`);
}

/** Most text emoticons an event may list in meta.emoticons. */
export const EVENT_EMOTICONS_MAX = 32;

/** Checks meta.emoticons of a PUT /events/:id: at most 32 distinct emoticons; 400 naming the field. */
export function checkEventEmoticons(meta: { [field: string]: unknown } | undefined): void {
  const emoticons = meta?.['emoticons'];
  if (emoticons === undefined) return;
  if (
    !Array.isArray(emoticons) ||
    emoticons.length > EVENT_EMOTICONS_MAX ||
    emoticons.some((e) => typeof e !== 'string' || !isEmoticon(e)) ||
    new Set(emoticons).size !== emoticons.length
  ) {
    throw invalid('meta.emoticons', `meta.emoticons must list at most ${EVENT_EMOTICONS_MAX} distinct emoticons, each 1–${EMOTICON_MAX} printable characters without spaces or emoji`);
  }
}

/** The text emoticons an event accepts besides emoji: its meta.emoticons, when set (checked on PUT). */
export function eventEmoticons(meta: { [field: string]: unknown }): readonly string[] {
  const list = meta['emoticons'];
  return Array.isArray(list) ? (list.filter((e) => typeof e === 'string') as string[]) : [];
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

/**
 * The body of POST /events/:id/reactions `{emoji, comment?}`: one RGI emoji, or one of the
 * event's own emoticons (meta.emoticons); anything else would be a new key in every snapshot.
 */
export function parseReaction(raw: unknown, emoticons: readonly string[] = []): ReactionInput {
  const body = requireObject(raw);
  onlyFields(body, ['emoji', 'comment']);
  const emoji = body['emoji'];
  if (emoji === undefined) throw invalid('emoji', 'emoji is required');
  if (typeof emoji !== 'string') throw invalid('emoji', 'emoji must be a string');
  if (!isEmoji(emoji) && !emoticons.includes(emoji)) {
    throw invalid('emoji', emoticons.length > 0 ? `emoji must be one emoji, or one of this event's emoticons: ${emoticons.join(' ')}` : 'emoji must be one emoji (this event lists no text emoticons in meta.emoticons)');
  }
  const rawComment = body['comment'];
  if (rawComment === undefined || rawComment === null) return { emoji, comment: null };
  const comment = checkText(rawComment, 'comment', 0, COMMENT_MAX);
  return { emoji, comment: comment === '' ? null : comment };
}
