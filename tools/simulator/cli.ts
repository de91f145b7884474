/**
 * `holdline simulate` behind its flags (parsed in bin/cli.ts): the checks before the run, the
 * progress bar, the report, and the outcome the exit status is chosen from.
 */
import cliProgress from 'cli-progress';
import { validateOptions, type Progress, type SimulateOptions, type SimulationReport } from './options.js';
import { preflight, publishes } from './preflight.js';
import { formatReport } from './report.js';
import { SetupError, simulate } from './simulate.js';

/** How a run ended, from the user's side: each has its own exit status (bin/cli.ts). */
export type SimulateOutcome = 'ok' | 'problems' | 'unreachable' | 'no-event' | 'token' | 'no-publisher' | 'unavailable' | 'usage';

/** Parse `10`, `10s`, `500ms`, `2m` into milliseconds (a bare number is seconds). */
export function parseDuration(text: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`--${name} must be a duration like 30s, 500ms or 2m, got "${text}"`);
  const value = Number(m[1]);
  return m[2] === 'ms' ? value : m[2] === 'm' ? value * 60_000 : value * 1000;
}

/** Where the run's text goes. */
export interface SimulateTerminal {
  json: boolean;
  progress: boolean;
  out(text: string): void;
  err(text: string): void;
  /** Draw a progress bar (only on a terminal). */
  isTTY?: boolean;
}

function progressBar(): { update(p: Progress): void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{phase} |{bar}| {percentage}% | joined {joined}/{viewers} | published {published} | delivered {delivered}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const payload = { phase: p.phase.padEnd(10), joined: p.joined, viewers: p.viewers, published: p.published, delivered: p.delivered };
      if (!started) {
        bar.start(Math.max(1, p.durationMs), 0, payload);
        started = true;
      }
      bar.update(Math.min(p.elapsedMs, p.durationMs), payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** The outcome a finished run's report means, with the advice to print for it (if any). */
export function judge(options: SimulateOptions, report: SimulationReport): { outcome: SimulateOutcome; advice: string | null } {
  const events = options.events.join(', ');
  if (report.unavailable.length > 0) {
    return { outcome: 'unavailable', advice: `the server lacks ${report.unavailable.join(', ')}: this run's figures mean nothing against it.` };
  }
  const refused = Object.keys(report.publishErrors).filter((k) => k === '401' || k === '403');
  if (publishes(options) && report.published === 0 && refused.length > 0) {
    return {
      outcome: 'token',
      advice: `the server refused every update (${refused.join(', ')}): the token must be valid for this server and carry the publish scope (holdline token --scope publish).`,
    };
  }
  if (!report.ok) return { outcome: 'problems', advice: null };
  if (!publishes(options) && report.delivered === 0) {
    return {
      outcome: 'no-publisher',
      advice:
        `nothing was published to ${events} during the run, so there was nothing to deliver and no latency to measure.\n` +
        `  Latency needs a publisher: pass --publish-rate 10 --token <publisher jwt> (the simulator publishes and times its own updates),\n` +
        `  or follow an event something else publishes to (npx holdline serve --demo plays demo-football, demo-cricket, demo-chess, demo-workout).`,
    };
  }
  return { outcome: 'ok', advice: null };
}

/** Runs the simulator for a terminal; resolves to the outcome. */
export async function runSimulation(options: SimulateOptions, terminal: SimulateTerminal): Promise<SimulateOutcome> {
  const fail = (outcome: SimulateOutcome, message: string): SimulateOutcome => {
    terminal.err(`holdline simulate: ${message}\n`);
    return outcome;
  };
  let problem;
  try {
    validateOptions(options);
  } catch (err) {
    return fail('usage', (err as Error).message);
  }
  try {
    problem = await preflight(options);
  } catch (err) {
    return fail('unreachable', (err as Error).message);
  }
  if (problem) return fail(problem.outcome, problem.message);
  const bar = terminal.progress && terminal.isTTY ? progressBar() : null;
  let report: SimulationReport;
  try {
    report = await simulate({ ...options, onProgress: bar ? (p) => bar.update(p) : undefined });
  } catch (err) {
    bar?.stop();
    if (err instanceof SetupError && (err.status === 401 || err.status === 403)) {
      return fail('token', `${err.message}\n  The token must be valid for this server and carry the publish scope (holdline token --scope publish).`);
    }
    return fail('problems', (err as Error).message);
  }
  bar?.stop();
  terminal.out(terminal.json ? `${JSON.stringify(report)}\n` : `${formatReport(report, { publishing: publishes(options) })}\n`);
  const verdict = judge(options, report);
  if (verdict.advice) terminal.err(`holdline simulate: ${verdict.advice}\n`);
  return verdict.outcome;
}
