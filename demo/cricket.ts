import { PublisherApi, sleep } from './api.js';

/**
 * Plays a T20 innings ball by ball through the public API, in the seed's cricket payload
 * spirit (batsman, bowler, commentary), and starts a new innings when one ends. Runs until the
 * signal aborts.
 */
export async function playCricket(api: PublisherApi, eventId: string, ballMs: number, signal: AbortSignal): Promise<void> {
  await api.putEvent(eventId, { title: 'Mumbai v Chennai, T20 (demo)', sport: 'cricket', state: 'live', meta: { venue: 'Wankhede' } }, signal);
  let rng = 42;
  const random = () => ((rng = (rng * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  const batters = ['Rohit', 'Ishan', 'Surya', 'Tilak', 'Hardik', 'Tim', 'Piyush'];
  const bowlers = ['Deepak', 'Tushar', 'Ravindra', 'Matheesha'];
  for (let innings = 1; !signal.aborted; innings++) {
    let runs = 0;
    let wickets = 0;
    let batter = 0;
    let batterRuns = 0;
    let batterBalls = 0;
    await api.score(eventId, { op: 'set', type: 'innings', data: { innings, runs: 0, wickets: 0, overs: '0.0', commentary: 'Players walk out to the middle.' } }, signal);
    for (let ball = 1; ball <= 120 && wickets < 10 && !signal.aborted; ball++) {
      await sleep(ballMs, signal);
      const over = `${Math.floor((ball - 1) / 6)}.${((ball - 1) % 6) + 1}`;
      const bowler = bowlers[Math.floor((ball - 1) / 6) % bowlers.length]!;
      const roll = random();
      const out = roll < 0.05;
      const hit = out ? 0 : roll < 0.4 ? 0 : roll < 0.7 ? 1 : roll < 0.82 ? 2 : roll < 0.92 ? 4 : 6;
      runs += hit;
      batterRuns += hit;
      batterBalls += 1;
      const name = batters[batter % batters.length]!;
      const commentary = out
        ? `${bowler} strikes! ${name} is out for ${batterRuns}.`
        : hit === 6 ? `${name} launches ${bowler} into the stands!` : hit === 4 ? `${name} finds the boundary.` : `${name} ${hit === 0 ? 'defends' : `takes ${hit}`}.`;
      if (out) wickets += 1;
      await api.score(eventId, {
        op: 'patch',
        type: out ? 'wicket' : hit >= 4 ? 'boundary' : 'ball',
        data: { runs, wickets, overs: over, commentary, batsman: { name, runs: batterRuns, balls: batterBalls }, bowler: { name: bowler, overs: over } },
      }, signal);
      if (out) {
        await api.notice(eventId, { type: 'wicket', title: `Wicket! ${name} ${batterRuns} (${batterBalls})`, body: commentary, level: 'important' }, signal);
        batter += 1;
        batterRuns = 0;
        batterBalls = 0;
      }
    }
    if (!signal.aborted) await api.notice(eventId, { type: 'innings', title: `Innings ${innings}: ${runs}/${wickets}` }, signal);
  }
}
