import { PublisherApi, sleep } from './api.js';

interface Exercise {
  name: string;
  sets: number;
  reps: number;
  weightKg: number | null;
  /** Heart rate the effort pushes towards. */
  effortBpm: number;
}

/** The session: strength work, then intervals on the rower. */
export const SESSION: readonly Exercise[] = [
  { name: 'Back squat', sets: 3, reps: 8, weightKg: 80, effortBpm: 150 },
  { name: 'Bench press', sets: 3, reps: 8, weightKg: 60, effortBpm: 135 },
  { name: 'Deadlift', sets: 2, reps: 5, weightKg: 100, effortBpm: 160 },
  { name: 'Rowing sprint (250 m)', sets: 3, reps: 10, weightKg: null, effortBpm: 172 },
];

/** Goals whose achievement is a notice: the workout tracker's notifications. */
const REP_GOALS = [25, 50, 100];
const KCAL_GOALS = [50, 100, 150];
const ZONE4_BPM = 160;

/**
 * Plays a workout session: one rep per tickMs with heart rate, reps, sets, calories and time as
 * score patches; rests between sets; a notice each time a goal is reached (rep and calorie
 * milestones, heart-rate zone 4, a set done). Starts a new session at the end. Runs until aborted.
 */
export async function playWorkout(api: PublisherApi, eventId: string, tickMs: number, signal: AbortSignal): Promise<void> {
  await api.putEvent(eventId, { title: "Sam's strength session (demo)", sport: 'workout', state: 'live', meta: { gym: 'Northside' } }, signal);
  let rng = 7;
  const random = () => ((rng = (rng * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  for (let session = 1; !signal.aborted; session++) {
    let bpm = 72;
    let totalReps = 0;
    let kcal = 0;
    let elapsedS = 0;
    let zone4 = false;
    const reached = new Set<string>();
    await api.score(eventId, {
      op: 'set', type: 'start',
      data: { athlete: 'Sam', session, exercise: 'Warm-up', set: 0, sets: 0, reps: 0, weightKg: null, heartRate: bpm, calories: 0, totalReps: 0, elapsedS: 0 },
    }, signal);
    await api.notice(eventId, { type: 'start', title: 'Session started', body: `Goals today: ${REP_GOALS.at(-1)} reps, ${KCAL_GOALS.at(-1)} kcal.` }, signal);
    const goal = async (key: string, title: string, body: string) => {
      if (reached.has(key)) return;
      reached.add(key);
      await api.notice(eventId, { type: 'goal', title, body, level: 'important' }, signal);
    };
    for (const ex of SESSION) {
      for (let set = 1; set <= ex.sets && !signal.aborted; set++) {
        for (let rep = 1; rep <= ex.reps && !signal.aborted; rep++) {
          await sleep(tickMs, signal);
          bpm = Math.round(bpm + (ex.effortBpm - bpm) * 0.25 + (random() - 0.5) * 4);
          totalReps += 1;
          elapsedS += Math.round(tickMs / 1000) || 1;
          kcal = Math.round((kcal + bpm / 60) * 10) / 10;
          await api.score(eventId, {
            op: 'patch', type: 'rep',
            data: { exercise: ex.name, set, sets: ex.sets, reps: rep, weightKg: ex.weightKg, heartRate: bpm, calories: Math.floor(kcal), totalReps, elapsedS },
          }, signal);
          for (const g of REP_GOALS) if (totalReps >= g) await goal(`reps-${g}`, `Goal reached: ${g} reps`, `${ex.name}, set ${set}.`);
          for (const g of KCAL_GOALS) if (kcal >= g) await goal(`kcal-${g}`, `Goal reached: ${g} kcal`, `Heart rate ${bpm} bpm.`);
          if (!zone4 && bpm >= ZONE4_BPM) {
            zone4 = true;
            await api.notice(eventId, { type: 'zone', title: 'Heart-rate zone 4', body: `${bpm} bpm: threshold effort.` }, signal);
          }
        }
        await api.notice(eventId, { type: 'set', title: `${ex.name}: set ${set}/${ex.sets} done`, body: ex.weightKg ? `${ex.reps} x ${ex.weightKg} kg` : `${ex.reps} strokes` }, signal);
        // Rest: the heart rate comes down between sets.
        for (let r = 0; r < 3 && !signal.aborted; r++) {
          await sleep(tickMs, signal);
          bpm = Math.round(bpm - (bpm - 95) * 0.3);
          elapsedS += Math.round(tickMs / 1000) || 1;
          await api.score(eventId, { op: 'patch', type: 'rest', data: { heartRate: bpm, elapsedS } }, signal);
        }
      }
    }
    if (!signal.aborted) await api.notice(eventId, { type: 'done', title: 'Session complete', body: `${totalReps} reps, ${Math.floor(kcal)} kcal.`, level: 'important' }, signal);
    await sleep(tickMs * 10, signal);
  }
}
