/** Writes a run's results file: machine, versions, one table per scenario, targets, profile. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { compareRuns, type EarlierRun } from './compare.js';
import type { Row } from './measure.js';
import type { Share } from './profile.js';
import { SCENARIO_TITLES } from './scenarios.js';
import { table } from './tables.js';
import { hundredThousand, verdicts } from './verdicts.js';

/** Facts about the run that the tables do not show. */
export interface RunInfo {
  quick: boolean;
  startedAt: Date;
  finishedAt: Date;
  loadBefore: number[];
  loadAfter: number[];
  pinned: boolean;
  profiles: Array<{ target: string; label: string; functions: Share[]; origins: Share[]; samples: number }>;
  profileNote?: string;
  /** The commit and branch measured, taken when the run started (a re-render may come later). */
  commit?: string;
  /** An earlier run to compare holdline's figures with (bench/run.ts --before). */
  before?: EarlierRun;
  /** V8 flags both servers ran with (absent in runs made before they had any). */
  nodeFlags?: readonly string[];
  /** The checkout whose holdline was measured, when not this one (bench/run.ts --holdline-from). */
  holdlineFrom?: string;
  /** With holdlineFrom: the commit of the harness (simulator, baseline, runner) that measured it. */
  harness?: string;
  /** Nchan's version, or why it did not run (absent: not asked for, or a run before issue 16). */
  nchan?: string;
}

const sh = (cmd: string, args: string[]): string => {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return '?';
  }
};

const version = (pkg: string): string => {
  try {
    return (JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
};

/** The commit and branch checked out in `dir`, as a results file names what it measured. */
export function currentCommit(dir = '.'): string {
  return `${sh('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'])} (${sh('git', ['-C', dir, 'rev-parse', '--abbrev-ref', 'HEAD'])})`;
}

/** The results file's markdown. */
export function renderResults(rows: Row[], info: RunInfo): string {
  const cpus = os.cpus();
  const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  const minutes = ((info.finishedAt.getTime() - info.startedAt.getTime()) / 60_000).toFixed(1);
  const out: string[] = [
    `# holdline bench, ${info.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC${info.quick ? ' (quick sizes)' : ''}`,
    '',
    `Made by \`make bench${info.quick ? '-quick' : ''}\` in ${minutes} min. How to read this file: bench/README.md.`,
    '',
    '## Machine and versions',
    '',
    `- CPU: ${cpus.length} × ${cpus[0]?.model ?? '?'}; memory ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; ${os.type()} ${os.release()}`,
    `- load average before / after: ${load(info.loadBefore)} / ${load(info.loadAfter)} (the cores are shared with other work: figures are noisy)`,
    `- pinning: ${info.pinned ? 'each server on core 0, the simulator (and this runner) on core 1, with taskset' : 'none (taskset missing or a single core)'}`,
    `- open-file limit: ${sh('sh', ['-c', 'ulimit -n'])}`,
    `- Node ${process.version}; holdline ${info.commit ?? currentCommit()}${info.holdlineFrom ? ` (from ${info.holdlineFrom}, measured with the harness of ${info.harness ?? '?'})` : ''}; koa ${version('koa')}, @koa/router ${version('@koa/router')}, jose ${version('jose')}, hdr-histogram-js ${version('hdr-histogram-js')}`,
    `- servers: fresh process per row, ${info.nodeFlags?.length ? `\`node ${info.nodeFlags.join(' ')}\` for both (what holdline ships with)` : 'node with default flags'}, HOLD_TIMEOUT_MS=25000, RING_SIZE=1024, MAX_BATCH=256; holdline with LOG_LEVEL=warn and an HS256 JWT_SECRET; a 3 s warm-up (500 viewers × 20/s) on another event before each row, not measured`,
    ...(info.nchan === undefined
      ? []
      : [
          `- Nchan (the C reference): ${info.nchan}; one worker, multipart long-polling (\`nchan_longpoll_multipart_response on\`), message buffer 1,024, 25 s hold, its own config in a temp dir (bench/lib/nchan.ts); its publisher keeps one update in flight, since Nchan numbers nothing and the simulator numbers the updates in the order they are written`,
        ]),
    '- latency: receive time minus the `sentAt` the simulator stamps into each score update just before writing the POST (same clock), so it includes the publish request itself',
    '',
  ];
  for (const scenario of Object.keys(SCENARIO_TITLES)) {
    if (!rows.some((x) => x.scenario === scenario)) continue;
    out.push(`## ${SCENARIO_TITLES[scenario]}`, '', table(rows, scenario), '');
  }
  out.push(
    '`(n.nn× node, n.nn× nchan)` after a holdline figure is its ratio to the raw baseline\'s and to Nchan\'s in the same row; `(n.nn× memory)` after a Redis figure, its ratio to holdline in memory. ' +
      '"publish ack": the publisher\'s own write-to-201 time. "delivered %": deltas received over every published update times every joined viewer. ' +
      '"lost/dup/ooo/behind": gaps, duplicates, out-of-order deltas, viewers not caught up at the end. ' +
      '"sim CPU %": the simulator\'s own use of its core during the window. ' +
      '"load": the machine\'s 1-minute load average as the row ended (2 cores: above 2, the server waited for a core).',
    '',
    '## Targets',
    '',
    ...verdicts(rows),
    '',
    'Reference figures for a raw node:http long-poll measured elsewhere: p99 87 ms at 1,000 × 10/s, ~37 µs CPU per delta, 14.4 KiB per held poll.',
    '',
    ...(info.before ? ['## Before and after', '', ...compareRuns(info.before, rows), ''] : []),
    '## 100,000 held polls in one process',
    '',
    ...hundredThousand(rows),
    '',
  );
  for (const p of info.profiles) {
    const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
    out.push(
      `## Profile: ${p.target}, ${p.label} (node --cpu-prof, ${p.samples.toLocaleString('en-US')} samples, idle excluded)`,
      '',
      `By origin (self time): ${p.origins.map((x) => `${x.name} ${pct(x.share)}`).join(', ')}.`,
      '',
      'Top functions (self time):',
      '',
      ...p.functions.map((x) => `- ${pct(x.share)} \`${x.name}\``),
      '',
    );
  }
  if (info.profiles.length === 0 && info.profileNote) out.push('## Profile', '', info.profileNote, '');
  return out.join('\n');
}
