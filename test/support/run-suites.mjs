// Runs every mocha suite on the in-memory store, then the HTTP-level suites again on a real
// Redis (TEST_STORE=redis), and ends with one "N passed, N failed" line for both runs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ON_REDIS = ['test/http.*.test.ts', 'test/fans.*.test.ts', 'test/concurrency.test.ts', 'test/poll.abort.test.ts'];
const runs = [
  { name: 'all suites, memory store', env: {}, args: [] },
  // --no-config: .mocharc.json's spec would otherwise be added to these files, not replaced.
  {
    name: 'HTTP suites again, Redis store',
    env: { TEST_STORE: 'redis' },
    args: ['--no-config', '--import=tsx', '--reporter', './test/support/summary-reporter.cjs', '--timeout', '20000', ...ON_REDIS],
  },
];
const only = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), 'holdline-tests-'));
let passes = 0;
let failures = 0;
let pending = 0;
let status = 0;
for (const [i, run] of runs.entries()) {
  if (only && !run.name.includes(only)) continue;
  process.stdout.write(`\n=== ${run.name}\n`);
  const file = join(dir, `run-${i}.json`);
  const res = spawnSync('npx', ['mocha', ...run.args], { stdio: 'inherit', env: { ...process.env, ...run.env, HOLDLINE_SUMMARY_FILE: file } });
  let counts = { passes: 0, failures: 1, pending: 0 };
  try {
    counts = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // mocha died before reporting: count the run as one failure.
  }
  passes += counts.passes;
  failures += counts.failures;
  pending += counts.pending;
  if (res.status !== 0) status = res.status ?? 1;
}
rmSync(dir, { recursive: true, force: true });
if (status !== 0 && failures === 0) failures = 1;
process.stdout.write(`\n${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}\n`);
process.exit(status);
