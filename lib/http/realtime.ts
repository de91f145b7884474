import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Principal } from '../model/access.js';
import type { SharedAnswer } from '../poll/answer.js';
import type { Auth } from '../trust/auth.js';
import type { Config } from '../config.js';
import { HubError, invalid, isHubError } from '../model/errors.js';
import { parseFilter } from '../poll/filter.js';
import type { Follower, FollowEnd, FollowSink, FollowTarget } from '../poll/follower.js';
import type { Hub } from '../hub.js';
import { isObject } from '../model/json.js';
import type { Logger } from '../ops/log.js';
import type { PollSub } from '../poll/reader.js';
import { bearerToken, checkSingleHeaders } from './auth.js';
import { parseBodyText } from './body.js';
import { originPolicy } from './cors.js';
import { errorResponse, isFault } from './errors.js';
import { holdHeaderPairs, securityHeaderPairs } from './headers.js';
import { checkUrlLimits } from './limits.js';
import { checkEventId, checkSingleValues, checkViewerId, identityOf, parseSubs } from './request.js';
import { endBody } from './sse.js';

/**
 * The WebSocket transport at /realtime (the seeds' endpoint), with `ws`: a follow message
 * (`{"id": viewer, "eventId": …}`, or `{"type": "subscribe", "subs": …}` for several) starts a
 * follower on the poll core, whose first answer is the acknowledgement (snapshot or deltas,
 * cursor, viewer count) and whose later answers are pushed as they come, each the poll path's
 * own bytes as one text message. Reactions and chat go through the same Fans calls as the HTTP
 * routes; the token comes at the upgrade and can be refreshed over the socket. Every other
 * message carries a `type`. docs/PROTOCOL.md has the whole exchange.
 */

export const REALTIME_PATH = '/realtime';
/** The subprotocol a browser offers (beside `bearer.<token>`) and the server selects. */
export const REALTIME_PROTOCOL = 'holdline';
const TOKEN_PROTOCOL = 'bearer.';

/** Close codes: the end reasons a client acts on. */
export const CLOSE_CODES = { drain: 1012, expired: 4001, slow: 4008, dead: 4009, policy: 1008 } as const;

/** How long a cut client has to read its final message before its socket is destroyed. */
const CUT_GRACE_MS = 5000;

/** Fields of a message that address it rather than form the write's body. */
const ENVELOPE = new Set(['type', 'ref', 'eventId']);

export interface RealtimeDeps {
  hub: Hub;
  config: Readonly<Config>;
  auth: Auth;
  logger: Logger;
}

/** A refusal of the upgrade itself, as a plain HTTP answer on the raw socket. */
function refuseUpgrade(socket: Duplex, err: unknown, encrypted: boolean, config: Pick<Config, 'holdTimeoutMs' | 'maxHoldMs'>): void {
  const answer = errorResponse(err);
  const lines = [`HTTP/1.1 ${answer.status} ${answer.error.code}`];
  const pairs = [...securityHeaderPairs(encrypted), ...holdHeaderPairs(config.holdTimeoutMs, config.maxHoldMs)];
  for (let i = 0; i < pairs.length; i += 2) lines.push(`${pairs[i]}: ${pairs[i + 1]}`);
  for (const [name, value] of Object.entries(answer.headers)) lines.push(`${name}: ${value}`);
  lines.push('Content-Type: application/json; charset=utf-8', `Content-Length: ${Buffer.byteLength(answer.body)}`, 'Cache-Control: no-store', 'Connection: close');
  socket.end(`${lines.join('\r\n')}\r\n\r\n${answer.body}`);
}

/** The token a WebSocket client offered as a `bearer.<token>` subprotocol, if any. */
function protocolToken(req: IncomingMessage): string | undefined {
  const header = req.headers['sec-websocket-protocol'];
  if (header === undefined) return undefined;
  const offered = header.split(',').map((p) => p.trim()).filter((p) => p.startsWith(TOKEN_PROTOCOL));
  if (offered.length > 1) throw invalid('Sec-WebSocket-Protocol', 'offer at most one bearer.<token> protocol');
  return offered[0]?.slice(TOKEN_PROTOCOL.length);
}

/**
 * The /realtime endpoint: the upgrade's checks (the same URL limits, single values, drain
 * gate, origin policy and token rules as every HTTP request), the sockets, their one ping
 * interval (dead clients are cut), and their drain.
 */
export class Realtime {
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<RealtimeClient>();
  private readonly allowOrigin: (origin: string | undefined) => string | null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly deps: RealtimeDeps) {
    const { config } = deps;
    this.allowOrigin = originPolicy(config.corsOrigins);
    // No compression: each socket's zlib context would cost far more memory than its messages save.
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: config.maxBodyBytes + 1024,
      handleProtocols: (protocols) => (protocols.has(REALTIME_PROTOCOL) ? REALTIME_PROTOCOL : false),
    });
  }

  /** Open sockets. */
  get size(): number {
    return this.clients.size;
  }

  /** The server's `upgrade` listener: /realtime is taken after its checks; anything else is refused. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const encrypted = (req.socket as Partial<TLSSocket>).encrypted === true;
    socket.on('error', () => socket.destroy());
    let principalOf: Promise<Principal | null>;
    try {
      principalOf = this.check(req, encrypted);
    } catch (err) {
      return refuseUpgrade(socket, err, encrypted, this.deps.config);
    }
    principalOf.then(
      (principal) => {
        if (socket.destroyed) return;
        if (this.deps.hub.draining || this.closed) return refuseUpgrade(socket, new HubError('draining', 'the server is draining', { retryAfterS: 1 }), encrypted, this.deps.config);
        this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, req, principal));
      },
      (err: unknown) => refuseUpgrade(socket, err, encrypted, this.deps.config),
    );
  }

  /** Ends the sockets that follow nothing (the followers hear the drain themselves). */
  drain(): void {
    const advice = this.deps.hub.drainAdvice();
    for (const c of this.clients) if (c.follower === null || c.follower.ended) c.close({ reason: 'drain', resume: null, advice });
  }

  /** Resolves once no socket is open. */
  settled(): Promise<void> {
    if (this.clients.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Cuts every socket still open and stops the ping interval; idempotent. */
  close(): void {
    this.closed = true;
    for (const c of [...this.clients]) c.terminate();
    this.stopTimer();
    this.wss.close();
  }

  /** Called by a client once its socket closed. */
  forget(client: RealtimeClient): void {
    this.clients.delete(client);
    if (this.clients.size > 0) return;
    this.stopTimer();
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** The upgrade's checks, in the HTTP pipeline's order; resolves with the verified principal. */
  private check(req: IncomingMessage, encrypted: boolean): Promise<Principal | null> {
    const { config, hub, auth } = this.deps;
    const url = req.url ?? '';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    const querystring = mark < 0 ? '' : url.slice(mark + 1);
    checkUrlLimits(path, querystring, config);
    if (path !== REALTIME_PATH) throw new HubError('not_found', `no WebSocket endpoint at ${path}: use ${REALTIME_PATH}`);
    const params = new URLSearchParams(querystring);
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of params) {
      const had = query[name];
      query[name] = had === undefined ? value : ([] as string[]).concat(had, value);
    }
    checkSingleValues(query);
    if (hub.draining) throw new HubError('draining', 'the server is draining', { retryAfterS: 1 });
    const origin = req.headers.origin;
    if (origin !== undefined && !this.sameOrigin(origin, req, encrypted) && this.allowOrigin(origin) === null) {
      throw new HubError('forbidden', `the origin ${origin} may not open a WebSocket here (CORS_ORIGINS)`);
    }
    checkSingleHeaders(req.headersDistinct);
    const fromProtocol = protocolToken(req);
    const fromQuery = query['access_token'];
    if (fromProtocol !== undefined && (fromQuery !== undefined || req.headers.authorization)) {
      throw invalid('access_token', 'send the token in one place: Authorization, access_token or a bearer.<token> protocol');
    }
    const token = bearerToken(req.headers.authorization ?? '', fromQuery ?? fromProtocol);
    return token === null ? Promise.resolve(null) : auth.verify(token);
  }

  /** A page's own origin may always open a socket to its server, as it may poll it. */
  private sameOrigin(origin: string, req: IncomingMessage, encrypted: boolean): boolean {
    return origin === `${encrypted ? 'https' : 'http'}://${req.headers.host ?? ''}`;
  }

  private connected(ws: WebSocket, req: IncomingMessage, principal: Principal | null): void {
    const client = new RealtimeClient(this, ws, principal, req.socket.remoteAddress ?? '');
    this.clients.add(client);
    if (this.timer === null) {
      this.timer = setInterval(() => {
        for (const c of [...this.clients]) c.beat();
      }, this.deps.config.streamHeartbeatMs);
      this.timer.unref();
    }
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

/** A message's reply to a request (`ref` echoed so a client can match it). */
function reply(type: string, ref: unknown, fields: Record<string, unknown>): string {
  return JSON.stringify(ref === undefined ? { type, ...fields } : { type, ref, ...fields });
}

/** One socket: its principal, its follower (at most one at a time), its liveness. */
class RealtimeClient implements FollowSink {
  follower: Follower | null = null;
  private alive = true;
  private viewer: string | null = null;
  private multi = false;
  private cut: NodeJS.Timeout | null = null;

  constructor(
    private readonly owner: Realtime,
    private readonly ws: WebSocket,
    private principal: Principal | null,
    private readonly address: string,
  ) {
    ws.on('pong', () => (this.alive = true));
    ws.on('message', (data, isBinary) => {
      this.alive = true;
      void this.message(data, isBinary);
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      if (this.cut !== null) clearTimeout(this.cut);
      this.follower?.close();
      this.follower = null;
      owner.forget(this);
    });
  }

  /** The ping tick: a client silent since the last one is dead; an expired token ends the socket. */
  beat(): void {
    if (!this.alive) {
      this.ws.terminate();
      return;
    }
    this.alive = false;
    const expiresAt = this.principal?.expiresAt ?? null;
    if (expiresAt !== null && expiresAt <= this.owner.deps.hub.followers.clock.now() && (this.follower === null || this.follower.ended)) {
      this.close({ reason: 'expired', resume: null });
      return;
    }
    this.ws.ping();
  }

  // FollowSink -----------------------------------------------------------------------------

  answer(body: SharedAnswer): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(body.bytes(), { binary: false });
  }

  buffered(): number {
    return this.ws.bufferedAmount;
  }

  end(end: FollowEnd, first: boolean): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (first && end.reason === 'error' && end.error) {
      // A refused follow (unknown event, private, bad cursor): the socket stays for another.
      this.ws.send(reply('error', undefined, { status: end.error.status, ...end.error.toBody() }));
      return;
    }
    if (end.reason === 'drain' || end.reason === 'expired' || end.reason === 'slow') return this.close(end);
    this.ws.send(JSON.stringify({ type: 'end', ...endBody(end) }));
  }

  /** Sends the `end` message and closes with the reason's code; a slow reader is cut after a grace. */
  close(end: FollowEnd): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify({ type: 'end', ...endBody(end) }));
    const code = end.reason === 'drain' ? CLOSE_CODES.drain : end.reason === 'expired' ? CLOSE_CODES.expired : end.reason === 'slow' ? CLOSE_CODES.slow : 1000;
    this.ws.close(code, end.reason);
    this.cut = setTimeout(() => this.ws.terminate(), CUT_GRACE_MS);
    this.cut.unref();
  }

  /** Cuts the socket at once. */
  terminate(): void {
    this.ws.terminate();
  }

  // Messages -------------------------------------------------------------------------------

  private async message(data: RawData, isBinary: boolean): Promise<void> {
    let ref: unknown;
    try {
      if (isBinary) throw invalid('message', 'messages are JSON text');
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
      const msg = parseBodyText(text, { maxDepth: this.owner.deps.config.maxJsonDepth });
      if (!isObject(msg)) throw invalid('message', 'a message is a JSON object');
      ref = msg['ref'];
      if (ref !== undefined && (typeof ref !== 'string' || ref.length > 64)) throw invalid('ref', 'ref is a string of at most 64 characters');
      const type = msg['type'] ?? 'follow';
      if (type === 'follow' || type === 'subscribe') this.follow(msg, type === 'subscribe');
      else if (type === 'reaction') await this.write(ref, msg, 'reaction');
      else if (type === 'chat') await this.write(ref, msg, 'chat');
      else if (type === 'auth') await this.refresh(ref, msg);
      else if (type === 'ping') this.send(reply('pong', ref, {}));
      else if (type === 'unsubscribe') {
        this.follower?.close();
        this.follower = null;
        this.send(reply('unsubscribed', ref, {}));
      } else throw invalid('type', 'type must be follow, subscribe, unsubscribe, reaction, chat, auth or ping');
    } catch (err) {
      const e = isHubError(err) ? err : new HubError('internal', 'internal error', { cause: err });
      if (isFault(e)) this.owner.deps.logger.error({ err, path: REALTIME_PATH }, 'realtime message failed');
      const answer = errorResponse(e);
      this.send(reply('error', ref, { status: answer.status, ...(JSON.parse(answer.body) as object), ...(e.retryAfterS !== undefined ? { retryAfterS: Math.max(1, Math.ceil(e.retryAfterS)) } : {}) }));
    }
  }

  private send(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  /** `{"id"?, "eventId", "cursor"?, kinds?, types?}` or `{"type": "subscribe", "id"?, "subs", kinds?, types?}`: replaces the follow. */
  private follow(msg: Record<string, unknown>, several: boolean): void {
    const allowed = several ? ['type', 'ref', 'id', 'subs', 'kinds', 'types'] : ['type', 'ref', 'id', 'eventId', 'cursor', 'kinds', 'types'];
    for (const key of Object.keys(msg)) if (!allowed.includes(key)) throw invalid(key, `a ${several ? 'subscribe' : 'follow'} message has no field ${key}`);
    const viewer = msg['id'] === undefined || msg['id'] === null ? null : checkViewerId(msg['id'], 'id');
    const text = (name: string): string | undefined => {
      const v = msg[name];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string') throw invalid(name, `${name} is a comma-separated string`);
      return v;
    };
    let subs: PollSub[];
    if (several) subs = parseSubs(msg['subs'], this.owner.deps.config.maxSubs);
    else {
      const eventId = checkEventId(typeof msg['eventId'] === 'string' ? msg['eventId'] : '', 'eventId');
      const cursor = text('cursor');
      subs = [{ eventId, cursor: cursor === undefined || cursor === '' ? null : cursor }];
    }
    const target: FollowTarget = {
      subs,
      multi: several,
      viewer,
      filter: parseFilter(text('kinds'), text('types')),
      principal: this.principal,
      address: this.address,
    };
    this.follower?.close();
    this.follower = null;
    this.viewer = viewer;
    this.multi = several;
    this.follower = this.owner.deps.hub.follow('ws', target, this);
  }

  /** A reaction or chat message, through the same Fans calls (validation, rate limits) as the HTTP routes. */
  private async write(ref: unknown, msg: Record<string, unknown>, kind: 'reaction' | 'chat'): Promise<void> {
    const { hub } = this.owner.deps;
    if (hub.draining) throw new HubError('draining', 'the server is draining', { retryAfterS: 1 });
    const principal = this.livePrincipal();
    const followed = this.follower && !this.follower.ended && !this.multi ? this.follower.target.subs[0]?.eventId : undefined;
    const eventId = checkEventId(typeof msg['eventId'] === 'string' ? msg['eventId'] : (followed ?? ''), 'eventId');
    const body: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(msg)) if (!ENVELOPE.has(k)) body[k] = v;
    let answer;
    if (kind === 'chat') answer = await hub.fans.chat(eventId, body, principal);
    else {
      // The seeds' reaction carries the sender's id; a token's sub wins, as on HTTP.
      const id = body['id'];
      delete body['id'];
      const viewer = id === undefined || id === null ? this.viewer : checkViewerId(id, 'id');
      const sender = { identity: identityOf(principal, viewer, this.address), user: principal?.sub ?? viewer };
      answer = await hub.fans.react(eventId, body, principal, sender);
    }
    this.send(reply('ack', ref, { status: answer.status, body: JSON.parse(answer.body) as unknown }));
  }

  /** `{"type": "auth", "token"}`: a fresh token for the same sub, before the old one expires. */
  private async refresh(ref: unknown, msg: Record<string, unknown>): Promise<void> {
    const token = msg['token'];
    if (typeof token !== 'string') throw invalid('token', 'auth needs {"token": "<jwt>"}');
    const fresh = await this.owner.deps.auth.verify(bearerToken(`Bearer ${token}`, undefined) ?? '');
    if ((fresh.sub ?? null) !== (this.principal?.sub ?? null)) throw new HubError('forbidden', 'a refreshed token must be for the same sub');
    this.follower?.refresh(fresh);
    this.principal = fresh;
    this.send(reply('auth', ref, { expiresAt: fresh.expiresAt }));
  }

  /** The socket's principal while its token is accepted; 401 once it has expired. */
  private livePrincipal(): Principal | null {
    const expiresAt = this.principal?.expiresAt ?? null;
    if (expiresAt !== null && expiresAt <= this.owner.deps.hub.followers.clock.now()) throw new HubError('invalid_token', 'the token has expired: send {"type": "auth", "token"}');
    return this.principal;
  }
}
