import { expect } from 'chai';
import { runCli } from '../bin/cli.js';
import { commandActions } from '../bin/holdline.js';
import { simulate, type SimulateOptions, type SimulationReport } from '../tools/simulator/index.js';
import { startLossyServer, type LossyFaults, type LossyServer } from './support/lossy-server.js';

const VIEWERS = 25;
const UPDATES = 12;

describe('simulate() against a scripted lossy server', function () {
  let server: LossyServer | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  async function run(faults: LossyFaults, extra: Partial<SimulateOptions> = {}): Promise<SimulationReport> {
    server = await startLossyServer(faults);
    return simulate({
      url: server.url,
      events: ['m1'],
      viewers: VIEWERS,
      durationMs: 400,
      publishRate: 100,
      publishCount: UPDATES,
      token: 'not-checked',
      ...extra,
    });
  }

  it('reports every delta delivered once and in order when nothing goes wrong', async () => {
    const report = await run({});
    expect(report).to.include({ viewers: VIEWERS, connected: VIEWERS, published: UPDATES, delivered: VIEWERS * UPDATES });
    expect(report).to.include({ gaps: 0, duplicates: 0, outOfOrder: 0, resets: 0, behind: 0, ok: true });
    expect(report.errors).to.deep.equal({});
    expect(report.latencyMs.count).to.equal(VIEWERS * UPDATES);
    // Every publish's own round trip is timed.
    expect(report.publishLatencyMs.count).to.equal(UPDATES);
    expect(report.publishLatencyMs.p50).to.be.above(0);
    expect(report.headSeq).to.deep.equal({ m1: UPDATES });
    expect(report.perViewer).to.deep.equal([]);
  });

  it('counts each scripted gap, duplicate, late delta, reset and error exactly, per viewer', async () => {
    const report = await run({ drop: [3], duplicate: [5], swap: [[7, 8]], resetAt: [10], failFirstPoll: 503 });
    // Per viewer: seq 3 lost and seq 10 reset away (missed 1) are two gaps; 5 twice; 8 before 7.
    expect(report).to.include({ gaps: 2 * VIEWERS, duplicates: VIEWERS, outOfOrder: VIEWERS, resets: VIEWERS, behind: 0 });
    expect(report.errors).to.deep.equal({ '503': VIEWERS });
    expect(report.ok).to.equal(false);
    expect(report.viewersWithProblems).to.equal(VIEWERS);
    for (const v of report.perViewer) {
      expect(v).to.deep.include({ gaps: 2, duplicates: 1, outOfOrder: 1, resets: 1, errors: { '503': 1 }, joined: true, behind: false });
    }
  });

  it('reads chunked answers like Content-Length ones', async () => {
    const report = await run({ chunked: true, drop: [2] });
    expect(report).to.include({ gaps: VIEWERS, duplicates: 0, outOfOrder: 0, delivered: VIEWERS * (UPDATES - 1) });
  });

  it('follows several events with one multi-event poll per viewer', async () => {
    const report = await run({ drop: [4] }, { events: ['m1', 'm2', 'm3'], publishCount: 15 });
    // 15 updates round robin: seqs 1..5 on each event, seq 4 dropped on all three.
    expect(report.headSeq).to.deep.equal({ m1: 5, m2: 5, m3: 5 });
    expect(report).to.include({ connected: VIEWERS, gaps: 3 * VIEWERS, duplicates: 0, outOfOrder: 0, delivered: 12 * VIEWERS });
    expect(report.unavailable).to.deep.equal([]);
  });

  it('sends reactions and counts the accepted ones', async () => {
    const report = await run({}, { reactionsRate: 200, durationMs: 300 });
    expect(report.reactions?.accepted).to.be.greaterThan(0);
    expect(report.reactions?.accepted).to.equal(server!.reactions());
    expect(report.ok).to.equal(true);
  });

  it('names the features a server without multi-event polls and reactions lacks', async () => {
    const multi = await run({ withoutExtras: true }, { events: ['m1', 'm2'] });
    expect(multi.unavailable).to.deep.equal(['multi-event poll (404)']);
    await server!.close();
    const reactions = await run({ withoutExtras: true }, { reactionsRate: 50 });
    expect(reactions.unavailable).to.deep.equal(['reactions (404)']);
    expect(reactions.gaps).to.equal(0);
  });
});

describe('holdline simulate (the command line)', function () {
  let server: LossyServer | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  /** Run the command line in process with its output captured. */
  async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const output = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) };
    const code = await runCli(['simulate', ...argv], commandActions(output), output, {});
    return { code, out: out.join(''), err: err.join('') };
  }

  const args = (url: string): string[] =>
    ['--url', url, '--event', 'm1', '--viewers', '10', '--duration', '300ms', '--publish-rate', '100', '--publishes', '8', '--token', 't'];

  it('exits 0 and prints one JSON object with the report fields', async () => {
    server = await startLossyServer();
    const { code, out } = await cli([...args(server.url), '--json']);
    expect(code).to.equal(0);
    const report = JSON.parse(out) as SimulationReport;
    expect(report).to.include({ viewers: 10, delivered: 80, gaps: 0, duplicates: 0, outOfOrder: 0, resets: 0 });
    expect(report.latencyMs).to.have.all.keys('p50', 'p95', 'p99', 'max', 'count');
    expect(report.errors).to.deep.equal({});
  });

  it('exits 1 when a viewer lost a delta', async () => {
    server = await startLossyServer({ drop: [2] });
    const { code, out } = await cli([...args(server.url), '--no-progress']);
    expect(code).to.equal(1);
    expect(out).to.match(/gaps 10 {2}duplicates 0/);
    expect(out).to.contain('FAILED: 10 deltas lost');
  });

  it('exits 1 when a viewer got a delta twice', async () => {
    server = await startLossyServer({ duplicate: [3] });
    const { code, out } = await cli([...args(server.url), '--json']);
    expect(code).to.equal(1);
    expect(JSON.parse(out)).to.include({ gaps: 0, duplicates: 10 });
  });

  it('exits 2 on arguments it does not understand, naming the flag', async () => {
    const { code, err } = await cli(['--viewers', 'many']);
    expect(code).to.equal(2);
    expect(err).to.contain("option '--viewers <n>' argument 'many' is invalid. --viewers must be a whole number of 1 or more");
    const typo = await cli(['--publish-rat', '5']);
    expect(typo.code).to.equal(2);
    expect(typo.err).to.contain("unknown option '--publish-rat'").and.contain('Did you mean --publish-rate?');
  });
});
