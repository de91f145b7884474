import type Router from '@koa/router';
import type { RouteDeps } from '../lib/http/app.js';
import { sendJson } from '../lib/http/request.js';

/** GET /healthz, /readyz and /metrics: what operators and load balancers ask. */
export function healthRoutes(router: Router, { hub, metrics }: RouteDeps): void {
  router.get('/healthz', (ctx) => sendJson(ctx, 200, '{"status":"ok"}'));

  router.get('/readyz', async (ctx) => {
    await hub.ready();
    sendJson(ctx, 200, JSON.stringify({ status: 'ready', store: hub.store.kind }));
  });

  router.get('/metrics', async (ctx) => {
    const { contentType, body } = await metrics.render();
    ctx.type = contentType;
    ctx.body = body;
  });
}
