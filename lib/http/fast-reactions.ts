import type { IncomingMessage } from 'node:http';
import { SharedAnswer } from '../poll/answer.js';
import { HubError, isHubError } from '../model/errors.js';
import { BODY_TYPES, decodeBody, parseBodyText } from './body.js';
import { clientAddress } from './client-address.js';
import { FastReplies, fastUrl, plainQuery, repeatsSingleHeader, withPrincipal, type FastDeps, type FastRoute } from './fast-path.js';
import { checkViewerParam, EVENT_ID_PATTERN, identityOf } from './request.js';

/** The reaction route's template, as the router, metrics and logs name it. */
export const REACTIONS_ROUTE = '/events/:eventId/reactions';

// As the router's own rule accepts a valid id; any other spelling goes through Koa, which decides.
const PATH = new RegExp(`^/events/(${EVENT_ID_PATTERN})/reactions$`);

/** The body types taken here, with no parameter or a UTF-8 charset; anything else is Koa's to read or refuse. */
const PLAIN_TYPE = new RegExp(`^(?:${BODY_TYPES.filter((t) => !t.includes('*')).join('|').replace(/\//g, '\\/')})(?:\\s*;\\s*charset="?utf-8"?)?$`, 'i');

/**
 * POST /events/:eventId/reactions below Koa: a stadium's fans tapping emoji are most of the
 * writes, thousands a second, and Koa's chain was most of their cost. It takes only a plain one:
 * a JSON or text/plain body of a stated length within MAX_BODY_BYTES, not compressed, no
 * Idempotency-Key, no JSONP or token in the URL, a plain bearer token or none. Everything else
 * goes to the Koa app untouched, before a byte of the body is read. Once it reads the body it
 * answers itself, through the same body reading, reaction rules and refusal wording as the route.
 */
export function createFastReactions(deps: FastDeps): FastRoute {
  const { hub, config, auth } = deps;
  const replies = new FastReplies(deps, REACTIONS_ROUTE, '/events/x/reactions');
  const depth = { maxDepth: config.maxJsonDepth };

  return function fastReactions(req, res, fallback) {
    const url = fastUrl(req, 'POST', deps);
    if (url === null) return fallback();
    const { path, querystring } = url;
    const match = PATH.exec(path);
    if (match === null) return fallback();
    const h = req.headers;
    const length = Number(h['content-length']);
    const type = h['content-type'];
    if (
      !(length > 0 && length <= config.maxBodyBytes) ||
      type === undefined ||
      !PLAIN_TYPE.test(type) ||
      h['transfer-encoding'] !== undefined ||
      h['content-encoding'] !== undefined ||
      h['idempotency-key'] !== undefined ||
      h['expect'] !== undefined ||
      repeatsSingleHeader(req)
    ) {
      return fallback();
    }
    const q = plainQuery(querystring, { viewer: undefined });
    if (q === null) return fallback();
    let viewer: string | null;
    try {
      viewer = checkViewerParam(q.viewer);
    } catch {
      return fallback();
    }
    const eventId = match[1]!;
    const started = performance.now();
    withPrincipal(auth, req, res, fallback, (principal) => {
      const { sink } = replies.open(req, res, 'POST', path, querystring, started);
      readBody(req, length).then(
        async (text) => {
          const body = parseBodyText(text, depth);
          // As lib/http/handlers/reactions.ts: the same sender from the same parts.
          const address = clientAddress(req, config);
          const identity = identityOf(principal, viewer, address);
          const answer = await hub.fans.react(eventId, body, principal, { identity, user: principal?.sub ?? viewer, address });
          sink.send(answer.status, new SharedAnswer(answer.body));
        },
        // The client went away mid-body: there is no one to answer.
        () => undefined,
      ).catch((err: unknown) => sink.fail(isHubError(err) ? err : new HubError('internal', 'internal error', { cause: err })));
    });
  };
}

/** The body's text, once its `length` bytes have come (a stated length the parser enforces). */
function readBody(req: IncomingMessage, length: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (received !== length) return reject(new Error('body shorter than its Content-Length'));
      resolve(decodeBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)));
    });
    // Closed before its end: the client went away mid-body.
    req.once('close', () => reject(new Error('closed before the body ended')));
    req.once('error', reject);
  });
}
