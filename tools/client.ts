/**
 * A Node client for holdline's HTTP protocol over fetch (undici keeps connections alive and
 * pools them per origin). Used by the tests; the simulator may adopt it. Speaks only the wire
 * types of lib/protocol.ts.
 */
import type { AppendAnswer, ErrorBody, EventDetail, JsonObject, MultiPollAnswer, PollAnswer } from '../lib/protocol.js';

/**
 * An HTTP answer that is not a success the protocol describes: a refusal (`code` from its error
 * body), or an answer that is not JSON at all (`code` 'not_json': a proxy's error page, a
 * captive portal), with the HTTP status either way. `fromServer` is false when the answer lacks
 * the Holdline-Hold header every holdline answer carries, so something in between made it.
 */
export class HoldlineHttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  readonly retryAfterS: number | null;
  readonly fromServer: boolean;
  constructor(status: number, body: Partial<ErrorBody> | null, retryAfter: string | null, fromServer = true, detail?: string) {
    const e = body?.error;
    super(`${status} ${e?.code ?? 'unknown'}: ${e?.message ?? detail ?? ''}`);
    this.name = 'HoldlineHttpError';
    this.status = status;
    this.code = e?.code ?? 'unknown';
    this.field = e?.field;
    this.retryAfterS = retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : null;
    this.fromServer = fromServer;
  }
}

/** The code of a HoldlineHttpError for an answer whose body is not JSON. */
export const NOT_JSON = 'not_json';

/**
 * A request that got no answer (connection refused or reset, the socket closed before the
 * answer's head): `code` is the system's (ECONNRESET, ECONNREFUSED, UND_ERR_SOCKET, …),
 * `retried` whether it was already sent twice (see HoldlineClient.request).
 */
export class HoldlineNetworkError extends Error {
  readonly status = 0;
  readonly code: string;
  readonly retried: boolean;
  constructor(cause: unknown, retried: boolean) {
    const code = networkCode(cause);
    super(`no answer (${code})${retried ? ' after one retry' : ''}`, { cause });
    this.name = 'HoldlineNetworkError';
    this.code = code;
    this.retried = retried;
  }
}

/** The most specific code fetch's error carries: its cause's, else its own name. */
function networkCode(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  const own = (err as { code?: unknown } | null)?.code;
  return typeof own === 'string' ? own : 'network';
}

export interface ClientOptions {
  baseUrl: string;
  /** A JWT sent as `Authorization: Bearer`. */
  token?: string;
  /** The `viewer` query parameter, for presence without a token. */
  viewer?: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

export interface PollOptions {
  /** Hold in seconds; the server's default when absent. */
  timeoutS?: number;
  kinds?: string[];
  types?: string[];
  signal?: AbortSignal;
}

type Query = Record<string, string | undefined>;

/** One viewer's or publisher's view of a holdline server. */
export class HoldlineClient {
  readonly baseUrl: string;
  token: string | undefined;
  viewer: string | undefined;
  private readonly fetch: typeof fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.viewer = options.viewer;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /**
   * Sends one request; resolves with the parsed JSON (null for 204). The status is looked at
   * before the body: any answer but a 2xx JSON one throws HoldlineHttpError with its status
   * (code 'not_json' when it is not JSON). A request that got no answer at all throws
   * HoldlineNetworkError, after being sent once more when that is safe: a GET, or a write
   * with an Idempotency-Key (the server answers the retry as it answered the first), since
   * the usual cause is a keep-alive connection the server or a proxy had just closed.
   */
  async request<T>(method: string, path: string, init: { query?: Query; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = { ...init.headers };
    if (this.token) headers['authorization'] = `Bearer ${this.token}`;
    const req: RequestInit = { method, headers };
    if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      req.body = JSON.stringify(init.body);
    }
    if (init.signal) req.signal = init.signal;
    const retriable = method === 'GET' || method === 'HEAD' || Object.keys(headers).some((h) => h.toLowerCase() === 'idempotency-key');
    let res: Response;
    try {
      res = await this.fetch(url, req);
    } catch (err) {
      if (init.signal?.aborted || !retriable) throw unanswered(err, false);
      try {
        res = await this.fetch(url, req);
      } catch (again) {
        throw unanswered(again, true);
      }
    }
    return readAnswer<T>(res);
  }

  private pollQuery(options: PollOptions): Query {
    return {
      viewer: this.viewer,
      timeout: options.timeoutS === undefined ? undefined : String(options.timeoutS),
      kinds: options.kinds?.join(','),
      types: options.types?.join(','),
    };
  }

  /** POST /events/:id/join: the snapshot, cursor, viewerId and advice. */
  join(eventId: string, id?: string): Promise<PollAnswer> {
    return this.request('POST', `/events/${encodeURIComponent(eventId)}/join`, { query: { viewer: this.viewer }, body: id === undefined ? undefined : { id } });
  }

  /** GET /events/:id/poll: held until the cursor advances (a join when cursor is null). */
  poll(eventId: string, cursor: string | null, options: PollOptions = {}): Promise<PollAnswer> {
    const query = { ...this.pollQuery(options), cursor: cursor ?? undefined };
    return this.request('GET', `/events/${encodeURIComponent(eventId)}/poll`, options.signal ? { query, signal: options.signal } : { query });
  }

  /** GET /poll?subs=...: several events in one held request. */
  pollMany(subs: Record<string, string | null>, options: PollOptions = {}): Promise<MultiPollAnswer> {
    const list = Object.entries(subs).map(([id, cursor]) => (cursor ? `${id}@${cursor}` : id)).join(',');
    const query = { ...this.pollQuery(options), subs: list };
    return this.request('GET', '/poll', options.signal ? { query, signal: options.signal } : { query });
  }

  /** POST /events/:id/leave. */
  async leave(eventId: string): Promise<void> {
    await this.request('POST', `/events/${encodeURIComponent(eventId)}/leave`, { query: { viewer: this.viewer } });
  }

  /** GET /events/:id: the detail with its snapshot, no hold. */
  getEvent(eventId: string): Promise<EventDetail> {
    return this.request('GET', `/events/${encodeURIComponent(eventId)}`);
  }

  /** PUT /events/:id: creates or updates an event (publish scope). */
  putEvent(eventId: string, body: { title?: string; sport?: string; visibility?: 'public' | 'private'; state?: string; meta?: JsonObject }): Promise<EventDetail> {
    return this.request('PUT', `/events/${encodeURIComponent(eventId)}`, { body });
  }

  /** DELETE /events/:id (admin). */
  async deleteEvent(eventId: string): Promise<void> {
    await this.request('DELETE', `/events/${encodeURIComponent(eventId)}`);
  }

  /** The publisher's appends: scores, notices, end. An idempotencyKey makes a retry safe. */
  readonly publish = {
    score: (eventId: string, body: { op?: 'set' | 'patch'; type?: string; version?: number; data: JsonObject }, idempotencyKey?: string) =>
      this.append(`/events/${encodeURIComponent(eventId)}/scores`, body, idempotencyKey),
    notice: (eventId: string, body: { type?: string; title: string; body?: string; level?: 'info' | 'important' }, idempotencyKey?: string) =>
      this.append(`/events/${encodeURIComponent(eventId)}/notices`, body, idempotencyKey),
    end: (eventId: string) => this.append(`/events/${encodeURIComponent(eventId)}/end`, undefined),
  };

  /** POST /events/:id/chat (a token with a sub). */
  chat(eventId: string, text: string, idempotencyKey?: string): Promise<{ seq: number; id: string }> {
    return this.request('POST', `/events/${encodeURIComponent(eventId)}/chat`, { body: { text }, headers: keyHeader(idempotencyKey) });
  }

  /** POST /events/:id/reactions: 202, counted in the next reactions window. */
  async react(eventId: string, emoji: string, comment?: string): Promise<void> {
    await this.request('POST', `/events/${encodeURIComponent(eventId)}/reactions`, {
      query: { viewer: this.viewer },
      body: comment === undefined ? { emoji } : { emoji, comment },
    });
  }

  private append(path: string, body: unknown, idempotencyKey?: string): Promise<AppendAnswer> {
    return this.request('POST', path, { body, headers: keyHeader(idempotencyKey) });
  }
}

/** What a fetch that got no answer throws: an abort stays an abort, anything else a HoldlineNetworkError. */
function unanswered(err: unknown, retried: boolean): unknown {
  return (err as { name?: string } | null)?.name === 'AbortError' ? err : new HoldlineNetworkError(err, retried);
}

/** The body of an answer, its status looked at first: a success's JSON, else the error it is. */
async function readAnswer<T>(res: Response): Promise<T> {
  const fromServer = res.headers.has('holdline-hold');
  const retryAfter = res.headers.get('retry-after');
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    // Cut after the head arrived: never sent again (a write may have been applied).
    throw unanswered(err, false);
  }
  if (res.status === 204 || (res.ok && text === '')) return null as T;
  const type = res.headers.get('content-type') ?? '';
  let parsed: unknown;
  let json = /^application\/([a-z.+-]*\+)?json\b/i.test(type);
  if (json) {
    try {
      parsed = JSON.parse(text);
    } catch {
      json = false;
    }
  }
  if (!json) {
    const detail = `the answer is ${type === '' ? 'untyped' : type}, not JSON${fromServer ? '' : ' (not from holdline: no Holdline-Hold header)'}`;
    throw new HoldlineHttpError(res.status, { error: { code: NOT_JSON, message: detail } }, retryAfter, fromServer);
  }
  if (!res.ok) throw new HoldlineHttpError(res.status, parsed as Partial<ErrorBody> | null, retryAfter, fromServer);
  return parsed as T;
}

function keyHeader(key: string | undefined): Record<string, string> {
  return key === undefined ? {} : { 'idempotency-key': key };
}

/** Narrows a multi-poll entry to a poll answer. */
export function isPollAnswer(entry: MultiPollAnswer['results'][number]): entry is PollAnswer {
  return !('error' in entry);
}
