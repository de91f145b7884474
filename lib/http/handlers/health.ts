import type Router from '@koa/router';
import type { RouteDeps } from '../deps.js';
import { openApiDocument } from '../openapi/document.js';
import { metricsAuthorized, metricsExposure, metricsRefusal } from '../metrics-server.js';
import { sendJson } from '../request.js';

const OPENAPI_JSON = JSON.stringify(openApiDocument);

/** GET /healthz, /readyz, /metrics and /openapi.json: what operators, load balancers and tools ask. */
export function healthRoutes(router: Router, { hub, metrics, config }: RouteDeps): void {
  router.get('/healthz', (ctx) => sendJson(ctx, 200, '{"status":"ok"}'));

  router.get('/readyz', async (ctx) => {
    await hub.ready();
    sendJson(ctx, 200, JSON.stringify({ status: 'ready', store: hub.store.kind }));
  });

  router.get('/openapi.json', (ctx) => sendJson(ctx, 200, OPENAPI_JSON));

  // On the main port only when neither METRICS_PORT nor its absence in production says otherwise:
  // 404 (as for any unknown path) when it is served elsewhere or not at all.
  const onMain = metricsExposure(config) === 'main';
  router.get('/metrics', async (ctx) => {
    if (!onMain) return;
    if (!metricsAuthorized(ctx.get('Authorization') || undefined, config.metricsToken)) {
      const refusal = metricsRefusal();
      ctx.status = refusal.status;
      for (const [name, value] of Object.entries(refusal.headers)) ctx.set(name, value);
      sendJson(ctx, refusal.status, refusal.body);
      return;
    }
    const { contentType, body } = await metrics.render();
    ctx.type = contentType;
    ctx.body = body;
  });
}
