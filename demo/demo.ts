import { PublisherApi } from './api.js';
import { playChess } from './chess.js';
import { playCricket } from './cricket.js';
import { playFootball } from './football.js';
import { playWorkout } from './workout.js';

/** The demo events, one per example the project was written for. */
export const DEMO_EVENTS = ['demo-football', 'demo-cricket', 'demo-chess', 'demo-workout'] as const;

/**
 * Plays the four demo events, looping, until the signal aborts: what `serve --demo` runs so the
 * pages under /demo/ have something happening. `coachToken` (optional) lets the football coach
 * chat.
 */
export function playDemos(baseUrl: string, publisherToken: string, signal: AbortSignal, log: (line: string) => void, coachToken?: string): void {
  const api = new PublisherApi(baseUrl, publisherToken);
  const coach = coachToken ? new PublisherApi(baseUrl, coachToken) : undefined;
  const runs: Array<[string, Promise<void>]> = [
    ['demo-football', playFootball(api, 'demo-football', 1333, signal, coach)],
    ['demo-cricket', playCricket(api, 'demo-cricket', 2000, signal)],
    ['demo-chess', playChess(api, 'demo-chess', 3000, signal)],
    ['demo-workout', playWorkout(api, 'demo-workout', 1500, signal)],
  ];
  for (const [event, run] of runs) {
    run.catch((err: Error) => {
      if (!signal.aborted) log(`demo publisher for ${event} stopped: ${err.message}`);
    });
  }
}
