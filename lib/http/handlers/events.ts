import type Router from '@koa/router';
import type { Context } from 'koa';
import type { RouteDeps } from '../deps.js';
import { eventIdParam, identity, sendJson, state } from '../request.js';
import { requireEmpty } from '../../model/event-input.js';
import { checkIdempotencyKey, type IdempotencyTicket } from '../../idempotency.js';
import type { Hub, WriteAnswer } from '../../hub.js';

/**
 * Runs an appending POST, honouring Idempotency-Key scoped to (identity, method, path, key):
 * `run` gets the ticket the append records itself under (null without the header).
 */
export async function appendWithIdempotency(ctx: Context, hub: Hub, run: (ticket: IdempotencyTicket | null) => Promise<WriteAnswer>): Promise<void> {
  const key = ctx.get('Idempotency-Key');
  const answer = key === '' ? await run(null) : await hub.idempotentAppend(idempotencyScope(ctx), checkIdempotencyKey(key), state(ctx).body, run);
  if (answer.replayed) ctx.set('Idempotent-Replayed', 'true');
  sendJson(ctx, answer.status, answer.body);
}

/** Runs a POST that does not append (reactions), honouring Idempotency-Key like appendWithIdempotency. */
export async function writeWithIdempotency(ctx: Context, hub: Hub, run: () => Promise<WriteAnswer>): Promise<void> {
  const key = ctx.get('Idempotency-Key');
  const answer = key === '' ? await run() : await hub.idempotent(idempotencyScope(ctx), checkIdempotencyKey(key), state(ctx).body, run);
  if (answer.replayed) ctx.set('Idempotent-Replayed', 'true');
  sendJson(ctx, answer.status, answer.body);
}

function idempotencyScope(ctx: Context): string {
  return `${identity(ctx)}|${ctx.method}|${ctx.path}`;
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
    await appendWithIdempotency(ctx, hub, (ticket) => hub.publishScore(id, state(ctx).body, state(ctx).principal, ticket));
  });

  router.post('/events/:eventId/notices', async (ctx) => {
    const id = eventIdParam(ctx);
    await appendWithIdempotency(ctx, hub, (ticket) => hub.publishNotice(id, state(ctx).body, state(ctx).principal, ticket));
  });

  router.post('/events/:eventId/end', async (ctx) => {
    const id = eventIdParam(ctx);
    requireEmpty(state(ctx).body);
    await appendWithIdempotency(ctx, hub, (ticket) => hub.end(id, state(ctx).principal, ticket));
  });
}
