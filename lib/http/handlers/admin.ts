import type Router from '@koa/router';
import { requireScope } from '../../model/access.js';
import { HubError } from '../../model/errors.js';
import type { RouteDeps } from '../deps.js';
import { sendJson, state } from '../request.js';

/** GET /admin/summary: the live dashboard's picture (lib/ops/dashboard.ts), for admin tokens only. */
export function adminRoutes(router: Router, { dashboard }: RouteDeps): void {
  router.get('/admin/summary', async (ctx) => {
    requireScope(state(ctx).principal, 'admin');
    if (!dashboard) throw new HubError('not_found', 'this server has no dashboard');
    ctx.set('Cache-Control', 'no-store');
    sendJson(ctx, 200, JSON.stringify(await dashboard.summary()));
  });
}
