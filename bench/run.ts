/**
 * `make bench` / `make bench-quick`: every scenario against holdline and the raw node:http
 * baseline in one run, each row on a fresh server pinned to core 0 while this process (the
 * simulator) runs on core 1; writes bench/results/<date>.md.
 *
 *   npx tsx bench/run.ts [--quick] [--only a,b,c,d,e] [--targets nchan,baseline,holdline,holdline-redis] [--no-profile] [--keep-profiles DIR] [--before EARLIER.json] [--out FILE]
 *                        [--holdline-from CHECKOUT] [--node-flags "FLAGS"]   (another build of holdline, other node flags)
 *                        [--install-nchan]   (apt-get nginx + libnginx-mod-nchan on Debian when missing; or BENCH_INSTALL_NCHAN=1)
 *   npx tsx bench/run.ts --render bench/results/<date>.json   (re-render the markdown of a run)
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measure, measureRounds, type Row } from './lib/measure.js';
import { pinSelf } from './lib/proc.js';
import { summarizeProfile } from './lib/profile.js';
import { currentCommit, renderResults, type RunInfo } from './lib/results.js';
import { scenarios } from './lib/scenarios.js';
import { findNchan, installNchan } from './lib/nchan.js';
import { resolveTargets, SERVER_NODE_FLAGS, type Target } from './lib/targets.js';
import { RedisStore } from '../lib/store/redis/store.js';

// The repository root, whether this runs as bench/run.ts or compiled as dist/bench/run.js.
let root = path.dirname(fileURLToPath(import.meta.url));
while (!existsSync(path.join(root, 'package.json')) && path.dirname(root) !== root) root = path.dirname(root);
process.chdir(root);

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    targets: { type: 'string', default: 'nchan,baseline,holdline,holdline-redis' },
    profile: { type: 'boolean', default: true },
    'keep-profiles': { type: 'string' },
    // An earlier run's JSON: adds a before/after table of holdline's key figures.
    before: { type: 'string' },
    out: { type: 'string' },
    render: { type: 'string' },
    // Another checkout's holdline (built), measured with this harness: a same-machine "before".
    'holdline-from': { type: 'string' },
    // Node flags for the servers, space-separated; '' for none. Default: SERVER_NODE_FLAGS.
    'node-flags': { type: 'string' },
    // Installing packages is never done unasked (CI runs the bench without it).
    'install-nchan': { type: 'boolean', default: process.env['BENCH_INSTALL_NCHAN'] === '1' },
  },
  allowNegative: true,
});
/** An earlier run's JSON, for the before/after table. */
function readEarlier(file: string): NonNullable<RunInfo['before']> {
  const earlier = JSON.parse(readFileSync(file, 'utf8')) as { info: { startedAt: string }; rows: Row[] };
  return { label: `${path.basename(file)}, ${earlier.info.startedAt.slice(0, 16).replace('T', ' ')} UTC`, rows: earlier.rows };
}

if (values.render !== undefined) {
  // Re-render a run's markdown from its JSON (after changing the tables, without re-running).
  const saved = JSON.parse(readFileSync(values.render, 'utf8')) as { info: RunInfo; rows: Row[] };
  const info: RunInfo = { ...saved.info, startedAt: new Date(saved.info.startedAt), finishedAt: new Date(saved.info.finishedAt) };
  if (values.before !== undefined) info.before = readEarlier(values.before);
  const out = values.out ?? values.render.replace(/\.json$/, '.md');
  writeFileSync(out, renderResults(saved.rows, info));
  process.stderr.write(`wrote ${out}\n`);
  process.exit(0);
}
const quick = values.quick;
const only = values.only?.split(',');
const log = (line: string): void => void process.stderr.write(`${line}\n`);

const startedAt = new Date();
const holdlineRoot = values['holdline-from'] === undefined ? undefined : path.resolve(values['holdline-from']);
const commit = currentCommit(holdlineRoot ?? root);
const harness = holdlineRoot === undefined ? undefined : currentCommit(root);
const loadBefore = os.loadavg();
const pinned = pinSelf(1);
const wanted = values.targets.split(',');
const nodeFlags = values['node-flags'] === undefined ? SERVER_NODE_FLAGS : values['node-flags'].split(' ').filter((f) => f !== '');
let nchanMissing: string | null = null;
if (wanted.includes('nchan') && findNchan() === null) {
  nchanMissing = values['install-nchan']
    ? installNchan(log)
    : 'nginx with libnginx-mod-nchan is not installed; bench/run.ts --install-nchan (or BENCH_INSTALL_NCHAN=1) installs it on Debian';
}
// In the order of `--targets`, so each round runs the references first, as the tables show them.
const resolved = await resolveTargets(root, { holdlineRoot, nodeFlags, nchanMissing });
const targets = wanted.map((name) => resolved.find((t) => t.name === name)).filter((t): t is Target => t !== undefined);
for (const t of targets) if (t.missing) log(`${t.name}: ${t.missing}; its rows are marked n/a`);

const rows: Row[] = [];
for (const spec of scenarios(quick)) {
  if (only && !only.includes(spec.scenario)) continue;
  log(`(${spec.scenario}) ${spec.label}${(spec.repeat ?? 1) > 1 ? `, ${spec.repeat} rounds` : ''}`);
  rows.push(...(await measureRounds(targets, spec, log)));
}

// One fan-out row per server under node --cpu-prof: where each spends its CPU per delta.
const profiles: RunInfo['profiles'] = [];
let profileNote: string | undefined;
if (values.profile) {
  const viewers = quick ? 200 : 1000;
  const label = `${viewers.toLocaleString('en-US')} viewers × 10/s for ${quick ? 5 : 15} s`;
  for (const target of targets.filter((t) => !t.missing && t.name !== 'holdline-redis' && t.name !== 'nchan')) {
    // Kept when asked (to open in Chrome DevTools or drill into with a script), else thrown away.
    const keep = values['keep-profiles'];
    const dir = keep === undefined ? mkdtempSync(path.join(os.tmpdir(), 'holdline-prof-')) : path.resolve(keep, target.name);
    mkdirSync(dir, { recursive: true });
    log(`profile: ${target.name}, ${label}`);
    const profiled: Target = { ...target, argv: [target.argv[0]!, '--cpu-prof', `--cpu-prof-dir=${dir}`, ...target.argv.slice(1)] };
    const sim = { events: ['match-1'], viewers, rampMs: 1000, durationMs: quick ? 5000 : 15_000, publishRate: 10 };
    await measure(profiled, { scenario: 'p', key: 'p', label, sim }, log);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file) profiles.push({ target: target.name, label, ...summarizeProfile(path.join(dir, file)) });
    else log(`  ${target.name} wrote no .cpuprofile (it must exit cleanly on SIGTERM for --cpu-prof to write one)`);
    if (keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
} else {
  profileNote = 'not run (--no-profile)';
}

// The Redis row's keys go with the run.
const redisTarget = targets.find((t) => t.name === 'holdline-redis');
if (redisTarget?.env['REDIS_URL'] && redisTarget.env['REDIS_PREFIX']) {
  const store = new RedisStore({ ringSize: 1024, chatHistory: 50, maxEvents: 10, idempotencyTtlMs: 1000, idempotencyMax: 100, url: redisTarget.env['REDIS_URL'], keyPrefix: redisTarget.env['REDIS_PREFIX'] });
  await store.purge().catch((err: unknown) => log(`could not delete the Redis row's keys: ${(err as Error).message}`));
  await store.close();
}

const nchan = targets.find((t) => t.name === 'nchan');
const info: RunInfo = { nchan: nchan ? (nchan.missing ?? nchan.version) : undefined, quick, commit, startedAt, finishedAt: new Date(), loadBefore, loadAfter: os.loadavg(), pinned, profiles, profileNote, nodeFlags, holdlineFrom: holdlineRoot, harness };
if (values.before !== undefined) info.before = readEarlier(values.before);
const date = startedAt.toISOString().slice(0, 10);
const out = values.out ?? path.join('bench', 'results', `${date}${quick ? '-quick' : ''}.md`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, renderResults(rows, info));
const raw = rows.map((r) => ({ ...r, report: r.report ? { ...r.report, perViewer: r.report.perViewer.slice(0, 5) } : undefined }));
writeFileSync(out.replace(/\.md$/, '.json'), `${JSON.stringify({ info: { ...info, before: undefined }, rows: raw }, null, 1)}\n`);
log(`wrote ${out}`);
