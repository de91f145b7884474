/** `holdline simulate …`: argument parsing, progress bar, report and exit code. */
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import type { Progress, SimulateOptions } from './options.js';
import { formatReport } from './report.js';
import { simulate } from './simulate.js';

const USAGE = `usage: holdline simulate [options]
  --url URL               server base URL (default $HOLDLINE_URL or http://127.0.0.1:8080)
  --event ID              event to follow; repeat for a multi-event poll (default sim-1)
  --viewers N             concurrent viewers, one keep-alive socket each (default 100)
  --ramp T                spread the joins over T (e.g. 5s, 500ms; default 0)
  --duration T            publish for T once all viewers joined (default 10s)
  --publish-rate R        score updates per second, all events together (default 0)
  --publishes N           stop after N updates
  --token JWT             publisher token (default $HOLDLINE_TOKEN)
  --reactions-rate R      anonymous reactions per second (default 0)
  --kinds K1,K2           kinds= filter for every poll
  --seed N                seed of the update schedule (default 1)
  --timeout S             timeout= (hold seconds) for every poll (default: the server's)
  --settle T              longest wait for viewers to catch up after publishing (default 10s)
  --json                  print one JSON report on stdout, no progress bar
  --no-progress           no progress bar
exit status: 0 all good; 1 a viewer lost, duplicated or reordered a delta, ended behind or
never joined; 2 bad arguments, set-up failure or a protocol feature the server lacks`;

/** Parse `10`, `10s`, `500ms`, `2m` into milliseconds (a bare number is seconds). */
export function parseDuration(text: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`--${name} must be a duration like 30s, 500ms or 2m, got "${text}"`);
  const value = Number(m[1]);
  return m[2] === 'ms' ? value : m[2] === 'm' ? value * 60_000 : value * 1000;
}

function parseNumber(text: string | undefined, name: string, fallback?: number): number | undefined {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new Error(`--${name} must be a non-negative number, got "${text}"`);
  }
  return value;
}

/** Build SimulateOptions from command-line arguments and the environment. */
export function parseSimulateArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): { options: SimulateOptions; json: boolean; progress: boolean } | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowNegative: true,
    options: {
      url: { type: 'string' },
      event: { type: 'string', multiple: true },
      viewers: { type: 'string' },
      ramp: { type: 'string' },
      duration: { type: 'string' },
      'publish-rate': { type: 'string' },
      publishes: { type: 'string' },
      token: { type: 'string' },
      'reactions-rate': { type: 'string' },
      kinds: { type: 'string' },
      seed: { type: 'string' },
      timeout: { type: 'string' },
      settle: { type: 'string' },
      json: { type: 'boolean', default: false },
      progress: { type: 'boolean', default: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const options: SimulateOptions = {
    url: values.url ?? env['HOLDLINE_URL'] ?? 'http://127.0.0.1:8080',
    events: values.event ?? ['sim-1'],
    viewers: parseNumber(values.viewers, 'viewers', 100)!,
    rampMs: values.ramp === undefined ? 0 : parseDuration(values.ramp, 'ramp'),
    durationMs: parseDuration(values.duration ?? '10s', 'duration'),
    publishRate: parseNumber(values['publish-rate'], 'publish-rate', 0),
    publishCount: parseNumber(values.publishes, 'publishes'),
    token: values.token ?? env['HOLDLINE_TOKEN'],
    reactionsRate: parseNumber(values['reactions-rate'], 'reactions-rate', 0),
    kinds: values.kinds?.split(',').filter((k) => k !== ''),
    seed: parseNumber(values.seed, 'seed', 1),
    holdTimeoutSec: parseNumber(values.timeout, 'timeout'),
    settleMs: values.settle === undefined ? undefined : parseDuration(values.settle, 'settle'),
  };
  return { options, json: values.json, progress: values.progress && !values.json };
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

/** Run the simulator from command-line arguments; resolves to the process exit code. */
export async function runSimulateCli(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseSimulateArgs>;
  try {
    parsed = parseSimulateArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const bar = parsed.progress && process.stderr.isTTY ? progressBar() : null;
  try {
    const report = await simulate({ ...parsed.options, onProgress: bar ? (p) => bar.update(p) : undefined });
    bar?.stop();
    process.stdout.write(parsed.json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
    if (report.unavailable.length > 0) return 2;
    return report.ok ? 0 : 1;
  } catch (err) {
    bar?.stop();
    process.stderr.write(`holdline simulate: ${(err as Error).message}\n`);
    return 2;
  }
}
