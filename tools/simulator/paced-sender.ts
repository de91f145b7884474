/**
 * Sends POSTs at a steady rate over a small pool of keep-alive connections: the publisher
 * of score updates and the reaction flood. The schedule is by elapsed time (request k is due
 * at k / rate seconds), so a stall is caught up rather than silently lowering the rate, and a
 * request's body is built when it is written on an already open connection, so an embedded
 * `sentAt` never includes time spent queued inside the simulator or in a TCP handshake.
 */
import { HttpConn, type ConnHandler, type SourceAddresses } from './http-conn.js';

/** One request to send: path (with query) and JSON body text. */
export interface PacedRequest {
  path: string;
  body: string;
}

/** How a PacedSender reaches the server and what it sends. */
export interface PacedSenderOptions {
  host: string;
  port: number;
  hostHeader: string;
  sources: SourceAddresses;
  /** Requests per second. */
  rate: number;
  /** Stop after this many requests (default: until stop()). */
  count?: number;
  /**
   * Issue nothing scheduled after this many ms from start(). The schedule must end by itself:
   * a simulator busy with a flood of answers runs its timers late (libuv keeps polling while
   * more than 1,024 sockets are ready), and a stop() that comes seconds late must not mean
   * seconds of extra publishing.
   */
  durationMs?: number;
  /**
   * Most requests in flight at once (one socket each). @default max(32, rate / 4): enough to
   * keep offering the rate while the server takes up to 250 ms per answer.
   */
  maxInFlight?: number;
  /** `Bearer …` or undefined for anonymous requests. */
  authorization?: string;
  now(): number;
  /** Builds request `index` at the moment it is written. */
  make(index: number): PacedRequest;
  /** Sees each answer; `status` 0 means a socket error named by `body`; `ms` from write to answer. */
  onAnswer(index: number, status: number, body: Buffer, ms: number): void;
}

class Slot implements ConnHandler {
  readonly conn: HttpConn;
  index = -1;
  /** now() when the request was written. */
  sentAt = 0;
  /** Why the last connect() failed (null: it did not); such a slot sends anyway, to report it. */
  refused: string | null = null;
  constructor(private readonly owner: PacedSender, o: PacedSenderOptions) {
    this.conn = new HttpConn(o.host, o.port, o.sources, this);
  }
  onResponse(status: number, body: Buffer): void {
    this.owner.settle(this, status, body);
  }
  onError(code: string): void {
    this.owner.settle(this, 0, Buffer.from(code));
  }
  onConnected(error: string | null): void {
    this.refused = error;
    this.owner.opened(this);
  }
}

const TICK_MS = 5;

/** Paced POST sender; see the module comment. */
export class PacedSender {
  /** Requests written so far. */
  issued = 0;
  /** Answers received (any status). */
  answered = 0;
  /** ctx.now() of the last answer (0: none yet). */
  lastAnswerAt = 0;
  /** Slots with nothing in flight and (unless `refused`) an open connection. */
  private readonly free: Slot[] = [];
  private readonly all: Slot[] = [];
  /** Slots whose connection is being opened: they join `free` when it is open. */
  private opening = 0;
  private readonly maxInFlight: number;
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private stopping = false;
  private drained: (() => void) | null = null;
  private prepared: (() => void) | null = null;
  private preparing: Promise<void> | null = null;
  /** Every connection closed: nothing in flight can answer any more. */
  private closed = false;
  private readonly prefix: string;

  constructor(private readonly o: PacedSenderOptions) {
    const auth = o.authorization === undefined ? '' : `Authorization: ${o.authorization}\r\n`;
    this.prefix = ` HTTP/1.1\r\nHost: ${o.hostHeader}\r\nContent-Type: application/json\r\n${auth}Content-Length: `;
    this.maxInFlight = o.maxInFlight ?? Math.max(32, Math.ceil(o.rate / 4));
  }

  /**
   * Opens the whole pool (maxInFlight connections) before the schedule starts, as a publisher
   * keeps its connection open, so no request waits for a TCP handshake with a busy server and
   * `sentAt` is the moment the bytes are written. Resolves when every connection is open or
   * failed, or after `timeoutMs`.
   */
  prepare(timeoutMs = 15_000): Promise<void> {
    if (this.o.rate <= 0 || this.stopping) return Promise.resolve();
    // A second call waits for the same pool.
    if (this.preparing !== null) return this.preparing;
    while (this.all.length < this.maxInFlight) this.add();
    if (this.opening === 0) return Promise.resolve();
    this.preparing = new Promise<void>((resolve) => {
      const give = setTimeout(() => this.prepared?.(), timeoutMs);
      this.prepared = () => {
        clearTimeout(give);
        this.prepared = null;
        resolve();
      };
    });
    return this.preparing;
  }

  /** Start the schedule now. */
  start(): void {
    if (this.o.rate <= 0 || this.timer !== null) return;
    this.startedAt = this.o.now();
    this.timer = setInterval(() => this.pump(), TICK_MS);
    this.pump();
  }

  /** Stop issuing; resolves when the requests in flight are answered (or after `graceMs`). */
  async stop(graceMs = 5000): Promise<void> {
    // Stopped already (a stop(0) from an answer): its requests in flight will never answer.
    if (this.closed) return;
    this.stopping = true;
    this.prepared?.();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.inFlight() > 0) {
      await new Promise<void>((resolve) => {
        const give = setTimeout(resolve, graceMs);
        this.drained = () => {
          clearTimeout(give);
          resolve();
        };
      });
    }
    this.closed = true;
    for (const slot of this.all) slot.conn.close();
  }

  /** Called by a slot when its request is answered or failed. */
  settle(slot: Slot, status: number, body: Buffer): void {
    this.answered += 1;
    this.lastAnswerAt = this.o.now();
    this.free.push(slot);
    this.o.onAnswer(slot.index, status, body, this.lastAnswerAt - slot.sentAt);
    if (this.stopping) {
      if (this.inFlight() === 0) this.drained?.();
    } else {
      this.pump();
    }
  }

  /** Called by a slot when the connection it was opening is open (or failed). */
  opened(slot: Slot): void {
    this.opening -= 1;
    this.free.push(slot);
    if (this.opening === 0) this.prepared?.();
    if (!this.stopping && this.timer !== null) this.pump();
  }

  private inFlight(): number {
    return this.all.length - this.free.length - this.opening;
  }

  private add(): void {
    const slot = new Slot(this, this.o);
    this.all.push(slot);
    this.opening += 1;
    slot.conn.connect();
  }

  private pump(): void {
    if (this.stopping) return;
    const elapsed = Math.min(this.o.now() - this.startedAt, this.o.durationMs ?? Number.POSITIVE_INFINITY);
    const scheduled = this.o.durationMs === undefined ? Number.POSITIVE_INFINITY : Math.floor((this.o.durationMs * this.o.rate) / 1000) + 1;
    const limit = Math.min(this.o.count ?? Number.POSITIVE_INFINITY, scheduled);
    const due = Math.min(limit, Math.floor((elapsed * this.o.rate) / 1000) + 1);
    while (this.issued < due) {
      const slot = this.free.pop();
      if (slot === undefined) {
        // Open more connections for what is due, within the pool; each joins `free` when open.
        const wanted = Math.min(due - this.issued - this.opening, this.maxInFlight - this.all.length);
        for (let i = 0; i < wanted; i++) this.add();
        break;
      }
      if (!slot.conn.open && slot.refused === null) {
        // Closed while idle (the server's keep-alive timeout): reopen it, use another meanwhile.
        this.opening += 1;
        slot.conn.connect();
        continue;
      }
      slot.refused = null;
      slot.index = this.issued;
      this.issued += 1;
      const req = this.o.make(slot.index);
      const length = Buffer.byteLength(req.body);
      slot.sentAt = this.o.now();
      slot.conn.send([`POST ${req.path}${this.prefix}${length}\r\n\r\n`, Buffer.from(req.body)]);
    }
    if (this.issued >= limit && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
