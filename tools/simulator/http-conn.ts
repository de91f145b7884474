/**
 * One keep-alive HTTP/1.1 connection on a raw socket, one request in flight at a time.
 * Requests are written as pre-built byte pieces; answers come back through a fixed handler
 * object, so a poll costs no closure, promise or header object on the client side.
 */
import net from 'node:net';
import { ResponseParser } from './response-parser.js';

/** Receives the outcome of each request sent on an HttpConn. */
export interface ConnHandler {
  /** `head`: the response's status line and headers (latin1), see ResponseSink. */
  onResponse(status: number, body: Buffer, head: string): void;
  /** `code`: an errno name (ECONNRESET, ECONNREFUSED, …), EPARSE, or ECLOSED. */
  onError(code: string): void;
  /** A socket opened by `connect()` is open, or failed with no request on it (`error` set). */
  onConnected?(error: string | null): void;
}

/** Sockets per source address before the next one is used, well inside connect()'s easy range. */
const PER_ADDRESS = 8000;

/**
 * Source addresses for loopback targets. connect() finds a free ephemeral port quickly only
 * while most of its half of the range (~14k of 32768–60999) is free; past that, each connect
 * costs milliseconds of kernel time. So sockets are spread over 127.0.0.1, .2, … at
 * PER_ADDRESS each, and when connect() reports EADDRNOTAVAIL everything moves one further.
 */
export class SourceAddresses {
  private offset = 0;
  private readonly loopback: boolean;
  private readonly groups: number;

  constructor(host: string, sockets = 0) {
    this.loopback = /^127\.\d+\.\d+\.\d+$/.test(host);
    this.groups = Math.max(1, Math.ceil(sockets / PER_ADDRESS));
  }

  /** The local address for socket `slot` (undefined: let the kernel choose). */
  addressFor(slot: number): string | undefined {
    if (!this.loopback) return undefined;
    const index = (slot % this.groups) + this.offset;
    return index === 0 ? undefined : `127.0.0.${index + 1}`;
  }

  /** Called on EADDRNOTAVAIL for `failed`; false when there is nowhere else to go. */
  exhausted(slot: number, failed: string | undefined): boolean {
    if (!this.loopback || this.offset + this.groups >= 250) return false;
    if (failed === this.addressFor(slot)) this.offset += 1;
    return true;
  }
}

/** A keep-alive connection that reconnects on demand; see the module comment. */
export class HttpConn {
  private socket: net.Socket | null = null;
  private readonly parser: ResponseParser;
  private inFlight = false;
  private reused = false;
  private lastParts: ReadonlyArray<Buffer | string> = [];
  private closed = false;
  /** A socket opened by connect() whose handshake has not finished: its failure is reported. */
  private awaitingConnect = false;
  /** How many times this connection had to be (re)opened. */
  connects = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly sources: SourceAddresses,
    private readonly handler: ConnHandler,
    /** Which source address group this connection uses (see SourceAddresses). */
    private readonly slot = 0,
  ) {
    this.parser = new ResponseParser((status, body, close, head) => this.onParsed(status, body, close, head));
  }

  /** True while a request is waiting for its answer. */
  get busy(): boolean {
    return this.inFlight;
  }

  /** True when a socket is open, so a request sent now is written at once. */
  get open(): boolean {
    return this.socket !== null && this.socket.readyState === 'open';
  }

  /**
   * Opens the socket ahead of the first request; the handler's onConnected hears when it is
   * open (or why not). A request sent on a connecting socket waits in it for the handshake, so a
   * timestamp taken when it was sent would count the connect too.
   */
  connect(): void {
    if (this.closed || this.inFlight) return;
    if (this.open) return this.handler.onConnected?.(null);
    if (this.socket === null) this.openSocket();
    this.awaitingConnect = true;
  }

  /** Send one request made of latin1 strings and buffers (several are written with one writev). */
  send(parts: ReadonlyArray<Buffer | string>): void {
    if (this.closed) return;
    this.inFlight = true;
    this.lastParts = parts;
    const socket = this.socket ?? this.openSocket();
    this.reused = this.connects > 0 && socket.readyState === 'open';
    if (parts.length === 1) {
      socket.write(parts[0]!, 'latin1');
      return;
    }
    socket.cork();
    for (const part of parts) socket.write(part, 'latin1');
    socket.uncork();
  }

  /** Drop the socket (a client-side timeout); the handler hears `code` if a request was pending. */
  abort(code: string): void {
    const pending = this.inFlight;
    this.drop();
    if (pending) {
      this.inFlight = false;
      this.handler.onError(code);
    }
  }

  /** Closes the idle socket (the viewer moved to a stream); a later send() opens a new one. */
  release(): void {
    if (this.inFlight) return;
    this.awaitingConnect = false;
    this.drop();
  }

  /** Close for good; no callbacks after this. */
  close(): void {
    this.closed = true;
    this.inFlight = false;
    this.awaitingConnect = false;
    this.drop();
  }

  private openSocket(): net.Socket {
    const localAddress = this.sources.addressFor(this.slot);
    const socket = net.connect({ host: this.host, port: this.port, localAddress, noDelay: true });
    this.socket = socket;
    this.connects += 1;
    this.parser.reset();
    socket.once('connect', () => {
      if (this.socket !== socket || !this.awaitingConnect) return;
      this.awaitingConnect = false;
      if (!this.inFlight) this.handler.onConnected?.(null);
    });
    socket.on('data', (data: Buffer) => {
      if (this.socket !== socket) return;
      try {
        this.parser.push(data);
      } catch {
        this.fail(socket, 'EPARSE');
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'ERROR';
      if (code === 'EADDRNOTAVAIL' && this.inFlight && this.sources.exhausted(this.slot, localAddress)) {
        this.retry(socket);
        return;
      }
      this.fail(socket, code);
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.parser.end();
      if (this.socket !== socket) return;
      // A keep-alive socket the server closed while idle, or just as we reused it:
      // nothing of the answer came, so sending the request again is safe.
      if (this.inFlight && this.reused && !this.parser.started) this.retry(socket);
      else this.fail(socket, 'ECLOSED');
    });
    return socket;
  }

  private retry(socket: net.Socket): void {
    if (this.socket === socket) this.socket = null;
    socket.destroy();
    this.reused = false;
    this.send(this.lastParts);
  }

  private fail(socket: net.Socket, code: string): void {
    if (this.socket !== socket) return;
    const awaited = this.awaitingConnect;
    this.awaitingConnect = false;
    this.drop();
    if (this.inFlight) {
      this.inFlight = false;
      this.handler.onError(code);
    } else if (awaited) {
      this.handler.onConnected?.(code);
    }
  }

  private drop(): void {
    const socket = this.socket;
    this.socket = null;
    this.parser.reset();
    if (socket === null) return;
    // A reset leaves no TIME_WAIT behind: 19,000 sockets closed the polite way would hold
    // their ports for a minute and slow the next run's connects.
    if (socket.readyState === 'open') socket.resetAndDestroy();
    else socket.destroy();
  }

  private onParsed(status: number, body: Buffer, close: boolean, head: string): void {
    if (!this.inFlight) return; // an answer nobody asked for: ignore it
    this.inFlight = false;
    if (close) this.drop();
    this.handler.onResponse(status, body, head);
  }
}
