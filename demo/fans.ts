import { HoldlineClient, HoldlineHttpError } from '../tools/client.js';
import type { Delta } from '../lib/protocol.js';
import { sleep } from './api.js';

/** One scripted fan: who they are and whom they support (football), if anyone. */
export interface Fan {
  sub: string;
  name: string;
  side?: 'home' | 'away';
}

/** Something on the field fans react to. */
interface Moment {
  /** A key into the sport's lines and emoji: "goal", "card", "wicket", ... */
  what: string;
  /** For football: the side it favours, so home and away fans react differently. */
  side?: 'home' | 'away';
  important: boolean;
}

/** How fans of one sport read the deltas and what they say. */
interface Crowd {
  fans: Fan[];
  moment(delta: Delta): Moment | null;
  /** Lines by moment ("goal"), by moment and stance ("goal:for", "goal:against"), and "idle". */
  lines: Record<string, readonly string[]>;
  /** The emoji fans press for a moment (the widget's default five, so its counters move). */
  emoji: Record<string, readonly string[]>;
}

const THUMBS = '\u{1F44D}';
const PARTY = '\u{1F389}';
const WOW = '\u{1F62E}';
const SAD = '\u{1F622}';
const FIRE = '\u{1F525}';

const FOOTBALL: Crowd = {
  fans: [
    { sub: 'fan-priya', name: 'Priya', side: 'home' },
    { sub: 'fan-tom', name: 'Tom', side: 'home' },
    { sub: 'fan-kemi', name: 'Kemi', side: 'away' },
    { sub: 'fan-jonas', name: 'Jonas', side: 'away' },
    { sub: 'fan-ana', name: 'Ana' },
  ],
  moment(d) {
    if (d.kind !== 'score' || d.op !== 'patch') return null;
    const data = d.data as { events?: Array<{ type?: string; team?: 'home' | 'away' }>; period?: string } | undefined;
    const last = data?.events?.at(-1);
    if (d.type === 'goal' && last) return { what: 'goal', side: last.team ?? undefined, important: true } as Moment;
    if (d.type === 'card' && last) return { what: last.type === 'red' ? 'red' : 'card', side: last.team === 'home' ? 'away' : 'home', important: last.type === 'red' };
    if (d.type === 'substitution') return { what: 'sub', important: false };
    if (d.type === 'injury') return { what: 'injury', important: false };
    if (d.type === 'period' && data?.period) return { what: data.period === 'Full time' ? 'fulltime' : 'halftime', important: true };
    return null;
  },
  lines: {
    'goal:for': [
      'GET IN!!!', 'What a finish, unreal', 'YESSS come on Rovers', 'I knew it, I KNEW it', 'Told you this was our day',
      'Absolute scenes here', 'That is going on the highlights reel', 'Get in there! Keep going lads', 'Goal of the season?',
      'My neighbours just heard me scream', 'Right where he wanted it', 'Buzzing. Absolutely buzzing.',
    ],
    'goal:against': [
      'Nooo, where was the marking?', 'Defending like strangers', 'Keeper had no chance to be fair', 'Ugh. Heads up, plenty of time',
      'That is on the full-backs', 'Sloppy, so sloppy', 'Can we please wake up', 'Fair play, great finish, still hurts',
    ],
    goal: ['Game on now', 'What a strike', 'This match has everything', 'Neutral here and loving it'],
    card: ['Never a booking', 'Ref has been waiting all game for that', 'Deserved, that was late', 'Soft. Very soft.', 'He has to be careful now'],
    red: ['OFF! He has to go', 'Down to ten, this changes everything', 'Reckless. Just reckless.', 'Second yellow, no complaints'],
    sub: ['Fresh legs, good call', 'Should have been made ten minutes ago', 'Let us see what he can do', 'Tactical switch, interesting'],
    injury: ['Hope he is OK', 'That looked painful', 'Hamstring, by the look of it'],
    halftime: ['Cup of tea time', 'Decent half that', 'Need more in the second half', 'Coach has work to do at the break'],
    fulltime: ['What a game!', 'Great shift from everyone', 'Same time next week?', 'I need a lie down after that'],
    idle: [
      'Anyone else watching from work?', 'Come on, pass it forward', 'This pitch looks heavy today', 'Press them higher!',
      'Great atmosphere tonight', 'Greetings from Lisbon', 'First time on this stream, works great on the train',
      'Their number 6 is everywhere', 'Shoot!!', 'Keep the ball, keep the ball', 'Who is on corners today?', 'Ref, use your eyes',
      'Lovely bit of skill there', 'We need a goal before the break',
    ],
  },
  emoji: {
    'goal:for': [PARTY, FIRE, PARTY, THUMBS], 'goal:against': [SAD, WOW], goal: [WOW, FIRE],
    card: [WOW], red: [WOW, SAD], sub: [THUMBS], injury: [SAD], halftime: [THUMBS], fulltime: [PARTY, THUMBS], idle: [THUMBS, FIRE],
  },
};

const CRICKET: Crowd = {
  fans: [
    { sub: 'fan-arjun', name: 'Arjun' }, { sub: 'fan-meera', name: 'Meera' }, { sub: 'fan-dev', name: 'Dev' }, { sub: 'fan-sara', name: 'Sara' },
  ],
  moment(d) {
    if (d.kind !== 'score') return null;
    if (d.type === 'wicket') return { what: 'wicket', important: true };
    if (d.type === 'boundary') {
      const text = String((d.data as { commentary?: string } | undefined)?.commentary ?? '');
      return { what: text.includes('stands') ? 'six' : 'four', important: false };
    }
    return null;
  },
  lines: {
    wicket: ['Gone! Big wicket', 'What a delivery', 'Plumb. Walk off', 'Poor shot selection there', 'The bowler has been building to that', 'Huge moment in the innings'],
    six: ['Out of the ground!', 'That is MASSIVE', 'Into the second tier', 'Clean hit, pure timing', 'Somebody catch that in the crowd'],
    four: ['Shot!', 'Lovely cover drive', 'Through the gap', 'Timed to perfection', 'Four more, keep it ticking'],
    idle: ['Run rate looking healthy', 'Rotate the strike!', 'Field is spread now', 'Great line from the bowler', 'Who fancies 180 here?', 'Watching from the office, shh'],
  },
  emoji: { wicket: [WOW, SAD, FIRE], six: [FIRE, PARTY], four: [THUMBS, FIRE], idle: [THUMBS] },
};

const CHESS: Crowd = {
  fans: [{ sub: 'fan-lena', name: 'Lena' }, { sub: 'fan-omar', name: 'Omar' }, { sub: 'fan-yuki', name: 'Yuki' }],
  moment(d) {
    if (d.kind !== 'notice') return null;
    if (d.type === 'mate') return { what: 'mate', important: true };
    if (d.type === 'highlight') return { what: 'highlight', important: false };
    if (d.type === 'check') return { what: 'check', important: false };
    return null;
  },
  lines: {
    mate: ['Beautiful finish', 'The Opera Game never gets old', 'Mate with the rook, textbook', 'Every club player should know this one'],
    highlight: ['Development over material, classic Morphy', 'Look at that tempo', 'Black is in real trouble', 'Such a clean idea'],
    check: ['Check!', 'The king is running out of squares', 'Forcing line now'],
    idle: ['Morphy was so far ahead of his time', 'What would an engine say here?', 'Hello from the chess club', 'Opening theory in 1858, wild'],
  },
  emoji: { mate: [PARTY, FIRE, WOW], highlight: [WOW, FIRE], check: [WOW], idle: [THUMBS] },
};

const WORKOUT: Crowd = {
  fans: [{ sub: 'fan-coachk', name: 'Coach K' }, { sub: 'fan-bea', name: 'Bea' }, { sub: 'fan-sam-mum', name: "Sam's mum" }],
  moment(d) {
    if (d.kind !== 'notice') return null;
    if (d.type === 'goal') return { what: 'goal', important: true };
    if (d.type === 'zone') return { what: 'zone', important: false };
    if (d.type === 'set') return { what: 'set', important: false };
    if (d.type === 'done') return { what: 'done', important: true };
    return null;
  },
  lines: {
    goal: ['Goal smashed!', 'Look at you go', 'That is a PB in the making', 'Strong work, Sam'],
    zone: ['Breathe, control it', 'Threshold! Hold it there', 'Heart rate climbing, stay smooth'],
    set: ['Set done, shake it out', 'Good tempo on those', 'Rest well, next one counts', 'Form looked solid'],
    done: ['Great session!', 'Stretch and hydrate', 'Proud of you', 'Same again Thursday?'],
    idle: ['Keep the back flat', 'You got this', 'Drink some water', 'Steady pace'],
  },
  emoji: { goal: [PARTY, FIRE], zone: [FIRE], set: [THUMBS], done: [PARTY, THUMBS], idle: [THUMBS] },
};

/** The crowd of each demo event, by its sport. */
export const CROWDS: Record<string, Crowd> = { football: FOOTBALL, cricket: CRICKET, chess: CHESS, workout: WORKOUT };

/**
 * Lines in the order one crowd says them: shuffled, and never one of the last `memory` again
 * (so the chat does not loop the same few lines).
 */
export class LinePicker {
  private readonly recent: string[] = [];
  constructor(
    private readonly random: () => number,
    private readonly memory = 8,
  ) {}

  /** A line from the pool that was not said lately (the oldest said one when all were). */
  pick(pool: readonly string[]): string | null {
    if (pool.length === 0) return null;
    const fresh = pool.filter((l) => !this.recent.includes(l));
    const choice = fresh.length > 0 ? fresh[Math.floor(this.random() * fresh.length)]! : this.recent.find((l) => pool.includes(l))!;
    this.recent.push(choice);
    const i = this.recent.indexOf(choice);
    if (i !== this.recent.length - 1) this.recent.splice(i, 1);
    while (this.recent.length > this.memory) this.recent.shift();
    return choice;
  }
}

export interface CrowdOptions {
  baseUrl: string;
  eventId: string;
  crowd: Crowd;
  /** A viewer token for a fan (sub, name), or null when the server cannot mint one. */
  mint: (sub: string, name: string) => Promise<string | null>;
  signal: AbortSignal;
  random?: () => number;
  /** Mean gap between idle chat lines. @default 25_000 */
  idleMs?: number;
  log?: (line: string) => void;
}

/**
 * Plays a crowd of scripted fans on one event until the signal aborts: every fan follows the
 * event through the public API (so each counts as a viewer), the first fan's poll answers are
 * read for moments, and on each moment a few fans react after a human pause, chatting a line for
 * their side and pressing an emoji or two. Between moments, idle chatter and a trickle of
 * reactions. Writes stay well inside RATE_CHAT and RATE_REACTIONS per fan.
 */
export async function playCrowd(o: CrowdOptions): Promise<void> {
  const random = o.random ?? Math.random;
  const picker = new LinePicker(random);
  const clients: Array<{ fan: Fan; client: HoldlineClient }> = [];
  for (const fan of o.crowd.fans) {
    const token = await o.mint(fan.sub, fan.name);
    if (token === null) return;
    clients.push({ fan, client: new HoldlineClient({ baseUrl: o.baseUrl, token }) });
  }
  const lastChat = new Map<string, number>();
  const say = async (fan: Fan, client: HoldlineClient, what: string, side: Moment['side']) => {
    const stance = side === undefined || fan.side === undefined ? null : fan.side === side ? 'for' : 'against';
    const pool = (stance && o.crowd.lines[`${what}:${stance}`]) || o.crowd.lines[what] || [];
    // One line per fan per 3 s at most: RATE_CHAT is 5 per 10 s by default.
    const now = Date.now();
    if (now - (lastChat.get(fan.sub) ?? 0) < 3000) return;
    const line = picker.pick(pool);
    if (line === null) return;
    lastChat.set(fan.sub, now);
    await client.chat(o.eventId, line).catch(() => undefined);
  };
  const react = async (fan: Fan, client: HoldlineClient, what: string, side: Moment['side'], presses: number) => {
    const stance = side === undefined || fan.side === undefined ? null : fan.side === side ? 'for' : 'against';
    const pool = (stance && o.crowd.emoji[`${what}:${stance}`]) || o.crowd.emoji[what] || [THUMBS];
    for (let i = 0; i < presses && !o.signal.aborted; i++) {
      await client.react(o.eventId, pool[Math.floor(random() * pool.length)]!).catch(() => undefined);
      await sleep(150 + random() * 400, o.signal).catch(() => undefined);
    }
  };
  const onMoment = (m: Moment) => {
    // Not everyone types at once: at most two lines per moment, the rest only react.
    let talkers = m.important ? 2 : 1;
    for (const { fan, client } of clients) {
      if (random() > (m.important ? 0.85 : 0.45)) continue;
      const talks = talkers > 0 && random() < 0.7;
      if (talks) talkers -= 1;
      void sleep(600 + random() * 4000, o.signal).then(async () => {
        if (talks) await say(fan, client, m.what, m.side);
        await react(fan, client, m.what, m.side, m.important ? 1 + Math.floor(random() * 3) : 1);
      }, () => undefined);
    }
  };
  const idle = async () => {
    const idleMs = o.idleMs ?? 25_000;
    while (!o.signal.aborted) {
      await sleep(idleMs * (0.4 + random() * 1.2), o.signal);
      const { fan, client } = clients[Math.floor(random() * clients.length)]!;
      await say(fan, client, 'idle', undefined);
      const other = clients[Math.floor(random() * clients.length)]!;
      await react(other.fan, other.client, 'idle', undefined, 1);
    }
  };
  const follow = async (fan: Fan, client: HoldlineClient, watcher: boolean) => {
    let cursor: string | null = null;
    while (!o.signal.aborted) {
      try {
        // The watcher wants what fans react to; the others only keep their presence.
        const answer = await client.poll(o.eventId, cursor, { signal: o.signal, kinds: watcher ? ['score', 'notice'] : ['status'] });
        if (cursor !== null && watcher) {
          for (const d of answer.deltas) {
            const m = o.crowd.moment(d);
            if (m) onMoment(m);
          }
        }
        cursor = answer.cursor;
      } catch (err) {
        if (o.signal.aborted) return;
        // A fan's token outlived (a demo left running for a day): a new one, and carry on.
        if (err instanceof HoldlineHttpError && err.status === 401) {
          client.token = (await o.mint(fan.sub, fan.name)) ?? client.token;
          continue;
        }
        o.log?.(`demo fan on ${o.eventId}: ${(err as Error).message}`);
        await sleep(2000 + random() * 2000, o.signal).catch(() => undefined);
      }
    }
  };
  await Promise.all([idle().catch(() => undefined), ...clients.map(({ fan, client }, i) => follow(fan, client, i === 0))]);
}
