import type Router from '@koa/router';
import type { Context } from 'koa';
import type { RouteDeps } from '../deps.js';
import { parseCursor } from '../../model/cursor.js';
import { HubError, invalid, isHubError } from '../../model/errors.js';
import { parseFilter } from '../../poll/filter.js';
import type { FollowTarget } from '../../poll/follower.js';
import { countRateLimited } from '../hold.js';
import { requestId } from '../logging.js';
import { eventIdParam, parseSubs, query, state, viewerParam } from '../request.js';
import { SseSink, type SseStreams } from '../sse.js';
import type { PollSub } from '../../poll/poller.js';

/** The SSE routes' templates, as the router, metrics and logs name them. */
export const STREAM_ROUTE = '/events/:eventId/stream';
export const MULTI_STREAM_ROUTE = '/stream';

/** The one Last-Event-ID header, if any (EventSource sends it when it reconnects). */
function lastEventId(ctx: Context): string | undefined {
  const values = ctx.req.headersDistinct['last-event-id'];
  if (values === undefined) return undefined;
  if (values.length > 1) throw invalid('Last-Event-ID', 'the Last-Event-ID header may be sent only once');
  return values[0] === '' ? undefined : values[0];
}

/** The subs of a multi-event stream, with the cursors of Last-Event-ID (`m1@c1,m2@c2`) where it names them. */
function resumedSubs(subs: PollSub[], last: string | undefined, maxSubs: number): PollSub[] {
  if (last === undefined) return subs;
  let resumed: PollSub[];
  try {
    resumed = parseSubs(last, maxSubs);
  } catch (err) {
    if (isHubError(err)) throw invalid('Last-Event-ID', `Last-Event-ID must be the id of an event of this stream: ${err.message}`);
    throw err;
  }
  return subs.map((s) => ({ eventId: s.eventId, cursor: resumed.find((r) => r.eventId === s.eventId)?.cursor ?? s.cursor }));
}

/** Server-Sent Events: one event or several, each answer an SSE event (lib/http/sse.ts). */
export function streamRoutes(router: Router, { hub, config, log, metrics }: RouteDeps, streams: SseStreams): void {
  const open = (ctx: Context, route: string, target: FollowTarget) => {
    if (state(ctx).jsonp !== undefined) throw invalid('callback', 'a stream cannot be JSONP: use the poll routes');
    const res = ctx.res;
    const sink = new SseSink(res, streams, target.multi, log, { method: ctx.method, path: ctx.path, reqId: requestId(ctx) }, countRateLimited(metrics, route));
    ctx.respond = false;
    try {
      sink.follower = hub.follow('sse', target, sink);
    } catch (err) {
      sink.refuse(isHubError(err) ? err : new HubError('internal', 'internal error', { cause: err }));
    }
  };
  const common = (ctx: Context) => ({
    viewer: viewerParam(ctx),
    filter: parseFilter(query(ctx, 'kinds'), query(ctx, 'types')),
    principal: state(ctx).principal,
    address: ctx.ip,
  });

  router.get(STREAM_ROUTE, async (ctx) => {
    const eventId = eventIdParam(ctx);
    const last = lastEventId(ctx);
    if (last !== undefined) parseCursor(last, 'Last-Event-ID');
    const given = query(ctx, 'cursor');
    const cursor = last ?? (given === undefined || given === '' ? null : given);
    open(ctx, STREAM_ROUTE, { subs: [{ eventId, cursor }], multi: false, ...common(ctx) });
  });

  router.get(MULTI_STREAM_ROUTE, async (ctx) => {
    const subs = resumedSubs(parseSubs(query(ctx, 'subs') ?? null, config.maxSubs), lastEventId(ctx), config.maxSubs);
    open(ctx, MULTI_STREAM_ROUTE, { subs, multi: true, ...common(ctx) });
  });
}
