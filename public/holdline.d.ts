/**
 * Type declarations for holdline.js, the browser client (a global `Holdline`, or
 * `require('holdline.js')` in CommonJS). Wire types follow docs/PROTOCOL.md and lib/protocol.ts.
 */
declare namespace Holdline {
  type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

  interface ChatMessage { id: string; user: { id: string; name?: string }; text: string; ts: number; seq: number }
  interface Notice { seq: number; ts: number; type?: string; title: string; body?: string; level: 'info' | 'important' }

  /** What the client keeps per event: built from a snapshot, kept current by the deltas. */
  interface Model {
    event: string;
    meta: { title?: string; sport?: string; visibility?: string; [field: string]: Json | undefined };
    state: 'scheduled' | 'live' | 'ended';
    score: { [key: string]: Json };
    chat: ChatMessage[];
    /** The last 20 notices seen since the snapshot. */
    notices: Notice[];
    reactions: { totals: { [emoji: string]: number }; samples: Array<{ user: string | null; emoji: string; comment: string }> };
    viewers: number | null;
    seq: number;
    cursor: string | null;
    ended: boolean;
  }

  /** One delta as it arrives (see the protocol's delta kinds). */
  interface Delta {
    seq: number;
    ts: number;
    kind: 'score' | 'notice' | 'chat' | 'reactions' | 'status';
    op?: 'set' | 'patch' | 'delete';
    type?: string;
    data?: any;
    id?: string;
    user?: { id: string; name?: string };
    text?: string;
    counts?: { [emoji: string]: number };
    samples?: Array<{ user: string | null; emoji: string; comment: string }>;
    window?: { from: number; to: number };
  }

  interface ClientError { status: number; code?: string; message?: string; event?: string; retryInMs?: number; retryAfterMs?: number | null }

  interface TransportRequest { method: 'GET' | 'POST'; url: string; headers: { [name: string]: string }; body: string | null; mode: 'xhr' | 'jsonp' }
  /**
   * status 0 means the request never got an answer (network, CORS, abort, time-out). `hold` is
   * the Holdline-Hold header; `fromServer` whether holdline made the answer (it carries that
   * header) rather than something in between, such as a proxy's 504 page.
   */
  interface TransportResponse { status: number; body: any; retryAfter: string | null; hold?: string | null; fromServer?: boolean; timedOut?: boolean }
  type Transport = (req: TransportRequest, done: (res: TransportResponse) => void) => { abort(): void };

  /** Returns the token, a promise of it, or calls done(err, token). */
  type GetToken = (done: (err: unknown, token?: string) => void, reason: 'start' | 'expiring' | 'unauthorized') => string | PromiseLike<string> | void;

  /** A poll the path cut after a long hold: retried at once, with `nextHoldMs`. */
  interface CutInfo { status: number; afterMs: number; holdMs: number; nextHoldMs: number }

  /** How holds are fitted to the path (docs/EMBEDDING.md, "Behind proxies"). */
  interface HoldOptions {
    /** The shortest hold a cut brings the hold down to. @default 5000 */
    floorMs?: number;
    /** How often a longer hold is tried again after a cut taught a shorter one. @default 600000 */
    probeMs?: number;
    /** A failure after at least this long is a cut, not an outage. @default 2000 */
    cutMinMs?: number;
    /** Remember the hold that fits per origin in localStorage, where the page allows it. @default true */
    remember?: boolean;
  }

  /** Where the fitted hold is remembered: localStorage's three methods. */
  interface HoldStorage { getItem(key: string): string | null; setItem(key: string, value: string): void; removeItem(key: string): void }

  interface Options {
    /** The server's address, e.g. "https://live.example.com". */
    baseUrl: string;
    /** The events to follow (at most 16), or `event` for one. */
    events?: string[];
    event?: string;
    /** A JWT, sent as a Bearer header (XHR) or as access_token (JSONP, sendBeacon). */
    token?: string;
    /** Called at start without a token, before the token expires, and after a 401. */
    getToken?: GetToken;
    /** Viewer id for presence when there is no token. @default a random id per client */
    viewer?: string;
    /** Only these delta kinds. */
    kinds?: Array<Delta['kind']>;
    /** Only score and notice deltas of these types. */
    types?: string[];
    /** Stop polling while the page is hidden. @default false */
    pauseWhenHidden?: boolean;
    /** Leave presence with sendBeacon on pagehide. @default true */
    leaveOnExit?: boolean;
    /** 'auto' tries XHR and falls back to JSONP when CORS refuses this page. @default 'auto' */
    mode?: 'auto' | 'xhr' | 'jsonp';
    /** Pins the hold every poll asks for (ms; within the server's max): cuts then never shorten it. */
    holdMs?: number;
    /** How holds adapt to a path that cuts long requests. */
    holds?: HoldOptions;
    /** Where the hold that fits is remembered. @default localStorage where allowed (null: nowhere) */
    storage?: HoldStorage | null;
    /** Backoff after failures that come fast: base and cap of the exponential step. @default {baseMs: 1000, maxMs: 30000} */
    backoff?: { baseMs?: number; maxMs?: number };
    /** How often an ended event is looked at again (it may be re-created). @default 60000 */
    endedRecheckMs?: number;
    /** Chat messages kept per event. @default 50 */
    chatLimit?: number;
    /** Injection points, for tests and unusual hosts. */
    transport?: Transport;
    setTimeout?: (fn: () => void, ms: number) => unknown;
    clearTimeout?: (handle: any) => void;
    random?: () => number;
    now?: () => number;
    sameOrigin?: boolean;
    /** Where visibilitychange is heard (the page's document by default). */
    document?: { addEventListener(type: string, fn: () => void): void; visibilityState?: string; hidden?: boolean } | null;
    /** Where pagehide/pageshow are heard and the page's origin is read (window by default). */
    window?: { addEventListener(type: string, fn: (e?: { persisted?: boolean }) => void): void; location?: { href: string } } | null;
  }

  type State = 'idle' | 'connecting' | 'live' | 'backoff' | 'paused' | 'stopped';

  interface Client {
    /** 'live' while polls are held or cut and retried; 'backoff' only while the server cannot be reached (or says to wait). */
    readonly state: State;
    readonly stats: { polls: number; deltas: number; duplicates: number; resets: number; errors: number; cuts: number };
    on(name: 'snapshot', fn: (eventId: string, model: Model, info: { reset: boolean; missed: number | null }) => void): this;
    on(name: 'delta' | 'score' | 'notice' | 'chat' | 'reactions' | 'status', fn: (eventId: string, delta: Delta, model: Model) => void): this;
    on(name: 'viewers', fn: (eventId: string, viewers: number, model: Model) => void): this;
    on(name: 'update', fn: (eventId: string, model: Model) => void): this;
    on(name: 'state', fn: (state: State) => void): this;
    on(name: 'transport', fn: (mode: 'jsonp') => void): this;
    on(name: 'cut', fn: (cut: CutInfo) => void): this;
    on(name: 'error', fn: (err: ClientError) => void): this;
    off(name: string, fn: (...args: any[]) => void): this;
    start(): this;
    stop(): void;
    pause(): void;
    resume(): void;
    follow(eventId: string): this;
    unfollow(eventId: string): this;
    model(eventId: string): Model | null;
    cursor(eventId: string): string | null;
    viewer(): string;
    transport(): 'xhr' | 'jsonp';
    /** The hold the next poll asks for, in ms. */
    holdMs(): number;
    setToken(token: string | null): void;
    react(eventId: string, emoji: string, comment?: string | null, cb?: (err: ClientError | null, answer: any) => void): void;
    react(eventId: string, emoji: string, cb: (err: ClientError | null, answer: any) => void): void;
    chat(eventId: string, text: string, cb?: (err: ClientError | null, answer: any) => void): void;
    leave(): void;
  }

  interface Static {
    readonly version: string;
    create(options: Options): Client;
    backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number;
    retryAfterMs(value: string | null | undefined, now: number): number | null;
    shouldTryJsonp(s: { option: string; mode: string; status: number; xhrEverOk: boolean; sameOrigin: boolean }): boolean;
    mergePatch(target: Json | undefined, patch: Json): Json;
    parseHoldHeader(value: string | null | undefined): { timeoutMs: number; minMs: number; maxMs: number } | null;
    /** The hold and retry rule the loop follows (and the simulator shares). */
    HoldPolicy: new (o?: HoldPolicyOptions) => HoldPolicy;
    tokenExpiry(token: string): number | null;
  }
}

declare namespace Holdline {
  interface HoldPolicyOptions extends HoldOptions {
    holdMs?: number;
    baseMs?: number;
    maxMs?: number;
    random?: () => number;
    now?: () => number;
    storage?: HoldStorage | null;
    key?: string;
  }

  /** What follows a failed poll: at once ('cut'), when the answer said ('wait'), or after a growing step ('backoff'). */
  interface Decision { kind: 'cut' | 'wait' | 'backoff'; delayMs: number }

  interface HoldPolicy {
    readonly cuts: number;
    advertised(hold: { timeoutMs?: number; maxMs?: number } | null): void;
    holdMs(): number;
    giveUpMs(holdMs: number): number;
    answered(holdMs: number, elapsedMs: number, quiet: boolean): void;
    isCut(res: { status: number; fromServer?: boolean; timedOut?: boolean }, elapsedMs: number): boolean;
    failed(res: { status: number; retryAfter?: string | null; fromServer?: boolean; timedOut?: boolean }, holdMs: number, elapsedMs: number): Decision;
    reset(): void;
  }
}

declare var Holdline: Holdline.Static;
