/**
 * Sends POSTs at a steady rate over a small pool of keep-alive connections: the publisher
 * of score updates and the reaction flood. The schedule is by elapsed time (request k is due
 * at k / rate seconds), so a stall is caught up rather than silently lowering the rate, and a
 * request's body is built when it is written, so an embedded `sentAt` never includes time
 * spent queued inside the simulator.
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
  /** Sees each answer; `status` 0 means a socket error named by `body`. */
  onAnswer(index: number, status: number, body: Buffer): void;
}

class Slot implements ConnHandler {
  readonly conn: HttpConn;
  index = -1;
  constructor(private readonly owner: PacedSender, o: PacedSenderOptions) {
    this.conn = new HttpConn(o.host, o.port, o.sources, this);
  }
  onResponse(status: number, body: Buffer): void {
    this.owner.settle(this, status, body);
  }
  onError(code: string): void {
    this.owner.settle(this, 0, Buffer.from(code));
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
  private readonly free: Slot[] = [];
  private readonly all: Slot[] = [];
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private stopping = false;
  private drained: (() => void) | null = null;
  private readonly prefix: string;

  constructor(private readonly o: PacedSenderOptions) {
    const auth = o.authorization === undefined ? '' : `Authorization: ${o.authorization}\r\n`;
    this.prefix = ` HTTP/1.1\r\nHost: ${o.hostHeader}\r\nContent-Type: application/json\r\n${auth}Content-Length: `;
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
    this.stopping = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.free.length < this.all.length) {
      await new Promise<void>((resolve) => {
        const give = setTimeout(resolve, graceMs);
        this.drained = () => {
          clearTimeout(give);
          resolve();
        };
      });
    }
    for (const slot of this.all) slot.conn.close();
  }

  /** Called by a slot when its request is answered or failed. */
  settle(slot: Slot, status: number, body: Buffer): void {
    this.answered += 1;
    this.lastAnswerAt = this.o.now();
    this.free.push(slot);
    this.o.onAnswer(slot.index, status, body);
    if (this.stopping) {
      if (this.free.length === this.all.length) this.drained?.();
    } else {
      this.pump();
    }
  }

  private pump(): void {
    if (this.stopping) return;
    const elapsed = Math.min(this.o.now() - this.startedAt, this.o.durationMs ?? Number.POSITIVE_INFINITY);
    const scheduled = this.o.durationMs === undefined ? Number.POSITIVE_INFINITY : Math.floor((this.o.durationMs * this.o.rate) / 1000) + 1;
    const limit = Math.min(this.o.count ?? Number.POSITIVE_INFINITY, scheduled);
    const due = Math.min(limit, Math.floor((elapsed * this.o.rate) / 1000) + 1);
    const maxInFlight = this.o.maxInFlight ?? Math.max(32, Math.ceil(this.o.rate / 4));
    while (this.issued < due) {
      let slot = this.free.pop();
      if (slot === undefined) {
        if (this.all.length >= maxInFlight) return;
        slot = new Slot(this, this.o);
        this.all.push(slot);
      }
      slot.index = this.issued;
      this.issued += 1;
      const req = this.o.make(slot.index);
      const length = Buffer.byteLength(req.body);
      slot.conn.send([`POST ${req.path}${this.prefix}${length}\r\n\r\n`, Buffer.from(req.body)]);
    }
    if (this.issued >= limit && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
