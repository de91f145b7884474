/// <reference path="../../public/holdline.d.ts" />
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

export const CLIENT_PATH = fileURLToPath(new URL('../../public/holdline.js', import.meta.url));
export const WIDGET_PATH = fileURLToPath(new URL('../../public/widget.js', import.meta.url));

/**
 * Loads holdline.js the way a browser would (a plain script, `this` = the global), into a
 * fresh context that has no XMLHttpRequest and no document: whatever the loop needs must be
 * injected, which is what the tests want to prove.
 */
export function loadHoldline(globals: Record<string, unknown> = {}): Holdline.Static {
  const sandbox: Record<string, unknown> = { ...globals };
  vm.createContext(sandbox);
  vm.runInContext(readFileSync(CLIENT_PATH, 'utf8'), sandbox, { filename: 'holdline.js' });
  return sandbox['Holdline'] as Holdline.Static;
}

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/** Timers on a fake clock: advance() runs what falls due, in order, and nothing else. */
export class FakeTimers {
  now = 1_700_000_000_000;
  private timers: Timer[] = [];
  private nextId = 1;

  setTimeout = (fn: () => void, ms: number): number => {
    const id = this.nextId++;
    this.timers.push({ id, at: this.now + Math.max(0, ms), fn });
    return id;
  };

  clearTimeout = (id: unknown): void => {
    this.timers = this.timers.filter((t) => t.id !== id);
  };

  /** Delays of the timers pending now, relative to now, soonest first. */
  pending(): number[] {
    return this.timers.map((t) => t.at - this.now).sort((a, b) => a - b);
  }

  /** Moves the clock forward, running every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.now = Math.max(this.now, due.at);
      due.fn();
    }
    this.now = end;
  }
}

export interface SentRequest {
  req: Holdline.TransportRequest;
  aborted: boolean;
  /** `extra.hold` is the Holdline-Hold header; `fromServer` defaults to whether it is there. */
  respond(status: number, body: unknown, retryAfter?: string | null, extra?: { hold?: string | null; fromServer?: boolean }): void;
}

/** A transport that records every request and lets the test answer them one by one. */
export class FakeTransport {
  readonly sent: SentRequest[] = [];

  readonly fn: Holdline.Transport = (req, done) => {
    const entry: SentRequest = {
      req,
      aborted: false,
      respond: (status, body, retryAfter = null, extra = {}) => {
        const hold = extra.hold ?? null;
        if (!entry.aborted) done({ status, body, retryAfter, hold, fromServer: extra.fromServer ?? hold !== null });
      },
    };
    this.sent.push(entry);
    return { abort: () => void (entry.aborted = true) };
  };

  /** The most recent request. */
  get last(): SentRequest {
    const r = this.sent[this.sent.length - 1];
    if (!r) throw new Error('no request was sent');
    return r;
  }

  /** The polls only (GET /poll). */
  polls(): SentRequest[] {
    return this.sent.filter((s) => s.req.method === 'GET');
  }
}

/** A Storage on a Map, for the per-origin memory of holds. */
export class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem = (key: string): string | null => this.items.get(key) ?? null;
  setItem = (key: string, value: string): void => void this.items.set(key, String(value));
  removeItem = (key: string): void => void this.items.delete(key);
}

/** The `subs` parameter of a poll URL, decoded. */
export function subsOf(url: string): string {
  return new URL(url).searchParams.get('subs') ?? '';
}
