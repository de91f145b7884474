/**
 * What to check before a simulation starts, so that a run that cannot work says why at once
 * (no server, no such event, no token) instead of retrying joins for 15 s and reporting
 * "never joined".
 */
import type { EventSummary } from '../../lib/protocol.js';
import type { SimulateOptions } from './options.js';
import { request, type OneOffAnswer } from './request.js';

/** Why a run cannot start, as the CLI tells it: `outcome` picks the exit status. */
export interface PreflightProblem {
  outcome: 'unreachable' | 'no-event' | 'token';
  message: string;
}

const PREFLIGHT_TIMEOUT_MS = 5000;

/** The server's error code and message from an error body, when it has one. */
function errorText(answer: OneOffAnswer): string {
  try {
    const body = JSON.parse(answer.body.toString('utf8')) as { error?: { code?: string; message?: string } };
    if (body.error?.code) return `${answer.status} ${body.error.code}${body.error.message ? `: ${body.error.message}` : ''}`;
  } catch {
    // not JSON
  }
  return String(answer.status);
}

/** True when the run will publish (and so needs a publisher token). */
export function publishes(o: SimulateOptions): boolean {
  return (o.publishRate ?? 0) > 0;
}

/**
 * Checks that the server answers, that each event exists (or can be created with the token) and
 * that publishing has a token; null when the run can start.
 */
export async function preflight(o: SimulateOptions): Promise<PreflightProblem | null> {
  const url = new URL(o.url);
  const base = url.origin;
  if (publishes(o) && !o.token) {
    return {
      outcome: 'token',
      message:
        `--publish-rate needs a publisher token to publish with: pass --token <jwt> or set HOLDLINE_TOKEN.\n` +
        `  Mint one with: JWT_SECRET=<the server's secret> holdline token --sub simulator --scope publish\n` +
        `  (a server in development mode prints an admin token at start; that one works too).`,
    };
  }
  const get = (path: string): Promise<OneOffAnswer | string> =>
    request(url, 'GET', path, { timeoutMs: PREFLIGHT_TIMEOUT_MS }).catch((err: Error) => err.message.replace(/^GET \S+: /, ''));
  for (const event of o.events) {
    const path = `/events/${encodeURIComponent(event)}`;
    const answer = await get(path);
    if (typeof answer === 'string') {
      return {
        outcome: 'unreachable',
        message:
          `cannot reach a server at ${base} (${answer}).\n` +
          `  Start one with: npx holdline serve --demo\n` +
          `  or point --url (or HOLDLINE_URL) at the server you mean.`,
      };
    }
    if (answer.status === 200) continue;
    if (answer.status === 404 && !o.token) {
      const list = await get('/events');
      let known = '';
      if (typeof list !== 'string' && list.status === 200) {
        try {
          const ids = (JSON.parse(list.body.toString('utf8')) as { events: EventSummary[] }).events.map((e) => e.id);
          known = ids.length === 0 ? '  The server has no public events yet.\n' : `  Events there now: ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ', …' : ''}\n`;
        } catch {
          // not holdline's answer: say nothing about the list
        }
      }
      return {
        outcome: 'no-event',
        message:
          `no event "${event}" on ${base} (GET ${path} answered ${errorText(answer)}).\n` +
          known +
          `  Check with: curl -s ${base}/events\n` +
          `  or let the simulator create it: pass --token <publisher jwt> (and --publish-rate to publish to it).`,
      };
    }
    if (answer.status === 404) continue; // the token creates it (PUT) when the run starts
    if (answer.status === 401 || answer.status === 403) {
      return {
        outcome: 'token',
        message:
          `event "${event}" is private (GET ${path} answered ${errorText(answer)}): simulated viewers poll without a token, so they cannot follow it.\n` +
          `  Simulate a public event, or make this one public (PUT ${path} with {"visibility":"public"}).`,
      };
    }
    return {
      outcome: 'unreachable',
      message: `${base} does not answer like a holdline server: GET ${path} answered ${errorText(answer)}. Check --url.`,
    };
  }
  return null;
}
