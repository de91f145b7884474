import type Router from '@koa/router';
import type { RouteDeps } from '../deps.js';
import { eventIdParam, identity, sendJson, state, viewerParam } from '../request.js';
import { clientAddress } from '../client-address.js';

/** Reactions: anyone who may read the event, folded into one delta per window. */
export function reactionRoutes(router: Router, { hub, config }: RouteDeps): void {
  router.post('/events/:eventId/reactions', async (ctx) => {
    const id = eventIdParam(ctx);
    const principal = state(ctx).principal;
    const sender = { identity: identity(ctx, config), user: principal?.sub ?? viewerParam(ctx), address: clientAddress(ctx.req, config) };
    // Idempotency-Key is ignored here: a reaction is a count (a retry counts once more at
    // worst), and honouring keys from anyone let anonymous clients store a record per request.
    const answer = await hub.fans.react(id, state(ctx).body, principal, sender);
    sendJson(ctx, answer.status, answer.body);
  });
}
