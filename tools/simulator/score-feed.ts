/**
 * A deterministic feed of football score updates: the same seed gives the same sequence of
 * bodies (events, ops, types, data) whatever the machine. Mostly small merge patches, with a
 * full `set` every 25 updates, as a scorer's console would send them.
 */

/** A small seeded PRNG (mulberry32): uniform floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Side {
  goals: number;
  shots: number;
  corners: number;
  cards: number;
}

interface Match {
  minute: number;
  possession: number;
  home: Side;
  away: Side;
}

/** Update types with their weights (out of 100). */
const TYPES: ReadonlyArray<readonly [string, number]> = [
  ['clock', 25],
  ['possession', 30],
  ['shot', 20],
  ['corner', 12],
  ['card', 7],
  ['goal', 6],
];

const FULL_EVERY = 25;

const side = (): Side => ({ goals: 0, shots: 0, corners: 0, cards: 0 });

/** Builds the body of score update `index`; see the module comment. */
export class ScoreFeed {
  private readonly random: () => number;
  private readonly matches: Match[];

  constructor(
    readonly events: readonly string[],
    seed: number,
  ) {
    this.random = seededRandom(seed);
    this.matches = events.map(() => ({ minute: 0, possession: 50, home: side(), away: side() }));
  }

  /** The event update `index` goes to: round robin, so every event gets its share. */
  eventOf(index: number): number {
    return index % this.events.length;
  }

  /** The JSON body of update `index`, stamped with `sentAt` (wall-clock ms). */
  body(index: number, sentAt: number): string {
    const match = this.matches[this.eventOf(index)]!;
    const type = this.pickType();
    const team = this.random() < 0.5 ? match.home : match.away;
    const teamKey = team === match.home ? 'home' : 'away';
    let patch: Record<string, unknown>;
    switch (type) {
      case 'clock':
        match.minute = Math.min(match.minute + 1, 120);
        patch = { minute: match.minute };
        break;
      case 'possession':
        match.possession = Math.max(25, Math.min(75, match.possession + Math.round((this.random() - 0.5) * 6)));
        patch = { possession: match.possession };
        break;
      case 'shot':
        team.shots += 1;
        patch = { [teamKey]: { shots: team.shots } };
        break;
      case 'corner':
        team.corners += 1;
        patch = { [teamKey]: { corners: team.corners } };
        break;
      case 'card':
        team.cards += 1;
        patch = { [teamKey]: { cards: team.cards } };
        break;
      default:
        team.goals += 1;
        team.shots += 1;
        patch = { [teamKey]: { goals: team.goals, shots: team.shots }, minute: match.minute };
    }
    if (index % FULL_EVERY === 0) {
      return JSON.stringify({ op: 'set', type, data: { ...structuredClone(match), sentAt } });
    }
    return JSON.stringify({ op: 'patch', type, data: { ...patch, sentAt } });
  }

  private pickType(): string {
    let roll = this.random() * 100;
    for (const [type, weight] of TYPES) {
      roll -= weight;
      if (roll < 0) return type;
    }
    return 'clock';
  }
}

/** Single-code-point emoji, the kind a viewer taps. */
export const REACTION_EMOJI = ['⚽', '👏', '🔥', '😱', '😂', '🎉'] as const;
