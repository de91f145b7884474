import type Router from '@koa/router';
import type { RouteDeps } from '../deps.js';
import { eventIdParam, sendJson, state } from '../request.js';

/** GET /events/:id/stats: engagement over the last hour, for whoever may read the event. */
export function statsRoutes(router: Router, { hub }: RouteDeps): void {
  router.get('/events/:eventId/stats', async (ctx) => {
    sendJson(ctx, 200, JSON.stringify(await hub.eventStats(eventIdParam(ctx), state(ctx).principal)));
  });
}
