import type Router from '@koa/router';
import type { RouteDeps } from '../deps.js';
import { eventIdParam, identity, state, viewerParam } from '../request.js';
import { writeWithIdempotency } from './events.js';

/** Reactions: anyone who may read the event, folded into one delta per window. */
export function reactionRoutes(router: Router, { hub }: RouteDeps): void {
  router.post('/events/:eventId/reactions', async (ctx) => {
    const id = eventIdParam(ctx);
    const principal = state(ctx).principal;
    const sender = { identity: identity(ctx), user: principal?.sub ?? viewerParam(ctx) };
    await writeWithIdempotency(ctx, hub, () => hub.fans.react(id, state(ctx).body, principal, sender));
  });
}
