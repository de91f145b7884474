import type Router from '@koa/router';
import type { Context } from 'koa';
import type { RouteDeps } from '../deps.js';
import { eventIdParam, sendJson, state } from '../request.js';
import { requireEmpty } from '../../model/event-input.js';
import { checkIdempotencyKey, idempotencyScope, type IdempotencyTicket } from '../../idempotency.js';
import type { IdempotencyKind } from '../../model/records.js';
import type { Hub, WriteAnswer } from '../../hub.js';

/**
 * Runs an appending POST, honouring Idempotency-Key where it protects something
 * (idempotencyScope: a publisher's appends, a signed-in viewer's chat), scoped to (kind, sub,
 * method, path, key). Anywhere else the header is ignored and the write runs as without it.
 */
export async function appendWithIdempotency(ctx: Context, hub: Hub, kind: IdempotencyKind, run: (ticket: IdempotencyTicket | null) => Promise<WriteAnswer>): Promise<void> {
  const key = ctx.get('Idempotency-Key');
  const scope = key === '' ? null : idempotencyScope(kind, state(ctx).principal, `${ctx.method}|${ctx.path}`);
  if (scope === null) {
    const answer = await run(null);
    sendJson(ctx, answer.status, answer.body);
    return;
  }
  const answer = await hub.idempotent(scope, checkIdempotencyKey(key), state(ctx).body, run);
  if (answer.replayed) ctx.set('Idempotent-Replayed', 'true');
  sendJson(ctx, answer.status, answer.body);
}

/** The event resource: list, read, create/update, delete, and the publisher's appends. */
export function eventRoutes(router: Router, { hub }: RouteDeps): void {
  router.get('/events', async (ctx) => {
    sendJson(ctx, 200, JSON.stringify({ events: await hub.listEvents(state(ctx).principal) }));
  });

  router.get('/events/:eventId', async (ctx) => {
    sendJson(ctx, 200, JSON.stringify(await hub.getEvent(eventIdParam(ctx), state(ctx).principal)));
  });

  router.put('/events/:eventId', async (ctx) => {
    const answer = await hub.putEvent(eventIdParam(ctx), state(ctx).body, state(ctx).principal);
    sendJson(ctx, answer.status, answer.body);
  });

  router.delete('/events/:eventId', async (ctx) => {
    await hub.deleteEvent(eventIdParam(ctx), state(ctx).principal);
    ctx.status = 204;
  });

  router.post('/events/:eventId/scores', async (ctx) => {
    const id = eventIdParam(ctx);
    await appendWithIdempotency(ctx, hub, 'publisher', (ticket) => hub.publishScore(id, state(ctx).body, state(ctx).principal, ticket));
  });

  router.post('/events/:eventId/notices', async (ctx) => {
    const id = eventIdParam(ctx);
    await appendWithIdempotency(ctx, hub, 'publisher', (ticket) => hub.publishNotice(id, state(ctx).body, state(ctx).principal, ticket));
  });

  router.post('/events/:eventId/end', async (ctx) => {
    const id = eventIdParam(ctx);
    requireEmpty(state(ctx).body);
    await appendWithIdempotency(ctx, hub, 'publisher', (ticket) => hub.end(id, state(ctx).principal, ticket));
  });
}
