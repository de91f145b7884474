import type Router from '@koa/router';
import type { Context } from 'koa';
import type { RouteDeps } from '../deps.js';
import { invalid } from '../../model/errors.js';
import { parseFilter } from '../../poll/filter.js';
import { MULTI_POLL_ROUTE, POLL_ROUTE } from '../fast-poll.js';
import { clientAddress } from '../client-address.js';
import { countRateLimited, holdResponse } from '../hold.js';
import {
  checkViewerId,
  eventIdParam,
  parseSubs,
  query,
  sendJson,
  state,
  timeoutParam,
  viewerParam,
} from '../request.js';
import { isObject } from '../../model/json.js';
import type { PollOptions } from '../../hub.js';

/** The options every poll shares: viewer, hold, filter, principal. */
function pollOptions(ctx: Context, holdMs: (timeoutS: number | null) => number, config: RouteDeps['config']): PollOptions {
  return {
    viewer: viewerParam(ctx),
    holdMs: holdMs(timeoutParam(ctx)),
    filter: parseFilter(query(ctx, 'kinds'), query(ctx, 'types')),
    principal: state(ctx).principal,
    address: clientAddress(ctx.req, config),
  };
}

/** Reading: the long poll, join, leave, and the multi-event poll. */
export function pollRoutes(router: Router, { hub, config, log, metrics }: RouteDeps): void {
  const holdMs = (t: number | null) => hub.holdMs(t);
  const closing = () => hub.draining;
  const singleRefusals = countRateLimited(metrics, POLL_ROUTE);
  const multiRefusals = countRateLimited(metrics, MULTI_POLL_ROUTE);

  router.get(POLL_ROUTE, async (ctx) => {
    const id = eventIdParam(ctx);
    const cursor = query(ctx, 'cursor');
    const options = pollOptions(ctx, holdMs, config);
    holdResponse(ctx, log, (sink) => hub.hold(id, cursor === undefined || cursor === '' ? null : cursor, options, sink), closing, singleRefusals);
  });

  router.post('/events/:eventId/join', async (ctx) => {
    const id = eventIdParam(ctx);
    const body = state(ctx).body;
    if (body !== undefined && (!isObject(body) || Object.keys(body).some((k) => k !== 'id'))) {
      throw invalid('body', 'join takes an empty body or {"id": "<viewer id>"}');
    }
    const bodyId = isObject(body) && body['id'] !== undefined ? checkViewerId(body['id'], 'id') : null;
    sendJson(ctx, 200, await hub.join(id, bodyId ?? viewerParam(ctx), state(ctx).principal));
  });

  router.post('/events/:eventId/leave', async (ctx) => {
    const id = eventIdParam(ctx);
    const body = state(ctx).body;
    if (body !== undefined && (!isObject(body) || Object.keys(body).some((k) => k !== 'id'))) {
      throw invalid('body', 'leave takes an empty body or {"id": "<viewer id>"}');
    }
    const bodyId = isObject(body) && body['id'] !== undefined ? checkViewerId(body['id'], 'id') : null;
    await hub.leave(id, viewerParam(ctx) ?? bodyId, state(ctx).principal);
    ctx.status = 204;
  });

  router.get(MULTI_POLL_ROUTE, async (ctx) => {
    const subs = parseSubs(query(ctx, 'subs') ?? null, config.maxSubs);
    const options = pollOptions(ctx, holdMs, config);
    holdResponse(ctx, log, (sink) => hub.holdMany(subs, options, sink), closing, multiRefusals);
  });

  router.post(MULTI_POLL_ROUTE, async (ctx) => {
    const body = state(ctx).body;
    if (!isObject(body) || Object.keys(body).some((k) => k !== 'subs')) throw invalid('body', 'the body must be {"subs": {...}}');
    const subs = parseSubs(body['subs'], config.maxSubs);
    const options = pollOptions(ctx, holdMs, config);
    holdResponse(ctx, log, (sink) => hub.holdMany(subs, options, sink), closing, multiRefusals);
  });
}
