import type Router from '@koa/router';
import type { Context } from 'koa';
import type { RouteDeps } from '../deps.js';
import { invalid } from '../../model/errors.js';
import { eventIdParam, state } from '../request.js';
import { appendWithIdempotency } from './events.js';

const MESSAGE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The `:msgId` path parameter: server-made ids are base64url, so anything else cannot exist. */
function messageIdParam(ctx: Context): string {
  const id = (ctx.params as Record<string, string> | undefined)?.['msgId'] ?? '';
  if (!MESSAGE_ID.test(id)) throw invalid('msgId', 'msgId must match ^[A-Za-z0-9_-]{1,64}$');
  return id;
}

/** Chat: a viewer with a token posts, an admin deletes. */
export function chatRoutes(router: Router, { hub }: RouteDeps): void {
  router.post('/events/:eventId/chat', async (ctx) => {
    const id = eventIdParam(ctx);
    await appendWithIdempotency(ctx, hub, 'viewer', (ticket) => hub.fans.chat(id, state(ctx).body, state(ctx).principal, ticket));
  });

  router.delete('/events/:eventId/chat/:msgId', async (ctx) => {
    await hub.fans.deleteChat(eventIdParam(ctx), messageIdParam(ctx), state(ctx).principal);
    ctx.status = 204;
  });
}
