import type Router from '@koa/router';
import type { RouteDeps } from '../deps.js';
import { openApiDocument } from '../openapi/document.js';
import { sendJson } from '../request.js';

const OPENAPI_JSON = JSON.stringify(openApiDocument);

/** GET /healthz, /readyz, /metrics and /openapi.json: what operators, load balancers and tools ask. */
export function healthRoutes(router: Router, { hub, metrics }: RouteDeps): void {
  router.get('/healthz', (ctx) => sendJson(ctx, 200, '{"status":"ok"}'));

  router.get('/readyz', async (ctx) => {
    await hub.ready();
    sendJson(ctx, 200, JSON.stringify({ status: 'ready', store: hub.store.kind }));
  });

  router.get('/openapi.json', (ctx) => sendJson(ctx, 200, OPENAPI_JSON));

  router.get('/metrics', async (ctx) => {
    const { contentType, body } = await metrics.render();
    ctx.type = contentType;
    ctx.body = body;
  });
}
