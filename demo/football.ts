import { PublisherApi, sleep } from './api.js';

type Team = 'home' | 'away';
interface Moment {
  minute: number;
  type: 'goal' | 'yellow' | 'red' | 'sub' | 'injury' | 'halftime' | 'fulltime';
  team?: Team;
  player?: string;
  detail?: string;
  /** What the coach says in the chat, if anything. */
  coach?: string;
}

/** A scripted match: the moments the seed's coaches app cares about (goals, cards, substitutions, injuries). */
export const MATCH: readonly Moment[] = [
  { minute: 7, type: 'yellow', team: 'away', player: 'Okafor', detail: 'late tackle' },
  { minute: 12, type: 'goal', team: 'home', player: 'Silva', detail: 'header from a corner', coach: 'Great delivery. Keep the shape now.' },
  { minute: 23, type: 'injury', team: 'away', player: 'Brandt', detail: 'hamstring' },
  { minute: 24, type: 'sub', team: 'away', player: 'Kowalski', detail: 'on for Brandt' },
  { minute: 38, type: 'goal', team: 'away', player: 'Mensah', detail: 'volley from the edge of the box', coach: 'Close him down faster, full-backs!' },
  { minute: 45, type: 'halftime' },
  { minute: 58, type: 'yellow', team: 'home', player: 'Ramos', detail: 'dissent' },
  { minute: 63, type: 'sub', team: 'home', player: 'Novak', detail: 'on for Ortega', coach: 'Novak, play high and press their centre-backs.' },
  { minute: 71, type: 'goal', team: 'home', player: 'Novak', detail: 'tap-in after a rebound' },
  { minute: 80, type: 'red', team: 'away', player: 'Okafor', detail: 'second yellow' },
  { minute: 88, type: 'goal', team: 'home', player: 'Silva', detail: 'penalty', coach: 'Game management now. Nobody switch off.' },
  { minute: 90, type: 'fulltime' },
];

const SCORE_TYPES: Record<Moment['type'], string> = {
  goal: 'goal', yellow: 'card', red: 'card', sub: 'substitution', injury: 'injury', halftime: 'period', fulltime: 'period',
};

/**
 * Plays MATCH in real time scaled by minuteMs (1333 ms: a match in two minutes): a clock
 * patch every match minute, a score patch and a notice for every moment, and the coach's lines
 * through `coach` (a second API with a chat token) when given. Starts a new match after full
 * time. Runs until the signal aborts.
 */
export async function playFootball(api: PublisherApi, eventId: string, minuteMs: number, signal: AbortSignal, coach?: PublisherApi): Promise<void> {
  const names = { home: 'Riverside Rovers', away: 'Harbour United' };
  await api.putEvent(eventId, { title: `${names.home} v ${names.away} (demo)`, sport: 'football', state: 'live', meta: { venue: 'Mill Lane' } }, signal);
  const say = async (text: string) => {
    // Chat is a viewer feature: the demo carries on without it (no chat token, rate limit, ...).
    if (coach) await coach.send('POST', `/events/${encodeURIComponent(eventId)}/chat`, { text }, signal).catch(() => undefined);
  };
  for (let match = 1; !signal.aborted; match++) {
    const goals = { home: 0, away: 0 };
    const events: Array<Record<string, unknown>> = [];
    await api.score(eventId, {
      op: 'set', type: 'kickoff',
      data: { home: { name: names.home, goals: 0 }, away: { name: names.away, goals: 0 }, minute: 0, period: '1st half', events: [] },
    }, signal);
    await api.notice(eventId, { type: 'kickoff', title: 'Kick-off!', body: `${names.home} v ${names.away}` }, signal);
    let next = 0;
    for (let minute = 1; minute <= 90 && !signal.aborted; minute++) {
      await sleep(minuteMs, signal);
      const period = minute > 45 ? '2nd half' : '1st half';
      await api.score(eventId, { op: 'patch', type: 'clock', data: { minute, period } }, signal);
      for (; next < MATCH.length && MATCH[next]!.minute === minute; next++) {
        const m = MATCH[next]!;
        const team = m.team ? names[m.team] : '';
        if (m.type === 'halftime' || m.type === 'fulltime') {
          const title = `${m.type === 'halftime' ? 'Half-time' : 'Full time'}: ${goals.home}-${goals.away}`;
          await api.score(eventId, { op: 'patch', type: 'period', data: { period: m.type === 'halftime' ? 'Half-time' : 'Full time' } }, signal);
          await api.notice(eventId, { type: m.type, title, level: m.type === 'fulltime' ? 'important' : 'info' }, signal);
          continue;
        }
        if (m.type === 'goal' && m.team) goals[m.team] += 1;
        events.push({ minute, type: m.type, team: m.team ?? null, player: m.player ?? null, detail: m.detail ?? null });
        const patch: Record<string, unknown> = { events: [...events] };
        if (m.type === 'goal' && m.team) patch[m.team] = { goals: goals[m.team] };
        await api.score(eventId, { op: 'patch', type: SCORE_TYPES[m.type], data: patch }, signal);
        const title = m.type === 'goal' ? `GOAL! ${team} ${goals.home}-${goals.away}`
          : m.type === 'red' ? `Red card: ${m.player} (${team})`
          : m.type === 'yellow' ? `Yellow card: ${m.player} (${team})`
          : m.type === 'sub' ? `Substitution, ${team}: ${m.player}`
          : `Injury: ${m.player} (${team})`;
        const important = m.type === 'goal' || m.type === 'red';
        await api.notice(eventId, { type: SCORE_TYPES[m.type], title, body: `${minute}' ${m.player}, ${m.detail}`, level: important ? 'important' : 'info' }, signal);
        if (m.coach) await say(m.coach);
      }
    }
    await sleep(minuteMs * 10, signal);
  }
}
