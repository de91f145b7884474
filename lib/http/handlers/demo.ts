import type Router from '@koa/router';
import type { RouteDeps } from '../deps.js';
import { HubError } from '../../model/errors.js';
import { sendJson } from '../request.js';

/**
 * POST /demo/token: a guest viewer token for the demo pages (`serve --demo` only), so their chat
 * box posts as someone. Outside demo mode the route answers 404 like any unknown path.
 */
export function demoRoutes(router: Router, { demo }: RouteDeps): void {
  router.post('/demo/token', async (ctx) => {
    if (!demo) throw new HubError('not_found', 'guest tokens exist in demo mode only (holdline serve --demo)');
    ctx.set('Cache-Control', 'no-store');
    sendJson(ctx, 201, JSON.stringify(await demo.viewerToken()));
  });
}
