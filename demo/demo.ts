import { PublisherApi, sleep } from './api.js';
import { playChess } from './chess.js';
import { playCricket } from './cricket.js';
import { CROWDS, playCrowd } from './fans.js';
import { playFootball } from './football.js';
import { playWorkout } from './workout.js';

/** The demo events, one per example the project was written for. */
export const DEMO_EVENTS = ['demo-football', 'demo-cricket', 'demo-chess', 'demo-workout'] as const;

/** Sport of each demo event: which crowd of scripted fans watches it. */
const SPORTS: Record<(typeof DEMO_EVENTS)[number], string> = {
  'demo-football': 'football', 'demo-cricket': 'cricket', 'demo-chess': 'chess', 'demo-workout': 'workout',
};

/**
 * Plays the four demo events, looping, until the signal aborts: what `serve --demo` runs so the
 * pages under /demo/ have something happening. `coachToken` (optional) lets the football coach
 * chat; `mintFan` (optional) gives each event a crowd of scripted fans who watch, chat and react.
 */
export function playDemos(
  baseUrl: string,
  publisherToken: string,
  signal: AbortSignal,
  log: (line: string) => void,
  coachToken?: string,
  mintFan?: (sub: string, name: string) => Promise<string | null>,
): void {
  const api = new PublisherApi(baseUrl, publisherToken);
  const coach = coachToken ? new PublisherApi(baseUrl, coachToken) : undefined;
  const runs: Array<[string, Promise<void>]> = [
    ['demo-football', playFootball(api, 'demo-football', 1333, signal, coach)],
    ['demo-cricket', playCricket(api, 'demo-cricket', 2000, signal)],
    ['demo-chess', playChess(api, 'demo-chess', 3000, signal)],
    ['demo-workout', playWorkout(api, 'demo-workout', 1500, signal)],
  ];
  if (mintFan) {
    for (const event of DEMO_EVENTS) {
      const crowd = CROWDS[SPORTS[event]]!;
      // The publisher creates the event; the fans come a moment later.
      const fans = sleep(1500, signal).then(() => playCrowd({ baseUrl, eventId: event, crowd, mint: mintFan, signal, log }));
      runs.push([`${event} (fans)`, fans]);
    }
  }
  for (const [event, run] of runs) {
    run.catch((err: Error) => {
      if (!signal.aborted) log(`demo publisher for ${event} stopped: ${err.message}`);
    });
  }
}

/** Resolves once every demo event exists (the publishers create them first), or after `timeoutMs`. */
export async function demosReady(baseUrl: string, signal: AbortSignal, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (const event of DEMO_EVENTS) {
    while (Date.now() < until && !signal.aborted) {
      const res = await fetch(new URL(`/events/${event}`, baseUrl), { signal }).catch(() => null);
      await res?.body?.cancel();
      if (res?.ok) break;
      await sleep(100, signal).catch(() => undefined);
    }
  }
}
