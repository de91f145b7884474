import type Router from '@koa/router';
import type { RouteDeps } from '../deps.js';
import { invalid } from '../../model/errors.js';
import { eventIdParam, query, sendJson, state } from '../request.js';

/** GET /events/:id/presence: the viewer count, and members for admins. */
export function presenceRoutes(router: Router, { hub }: RouteDeps): void {
  router.get('/events/:eventId/presence', async (ctx) => {
    const id = eventIdParam(ctx);
    const members = query(ctx, 'members');
    if (members !== undefined && members !== '0' && members !== '1') throw invalid('members', 'members must be 0 or 1');
    const page = query(ctx, 'page') ?? null;
    if (page !== null && !/^[A-Za-z0-9_@.:|-]{1,128}$/.test(page)) throw invalid('page', 'page must be the next value of the previous answer');
    sendJson(ctx, 200, JSON.stringify(await hub.presence(id, state(ctx).principal, members === '1', page)));
  });
}
