/**
 * One bench row: a fresh server process, a short warm-up on another event, then one
 * simulate() run with the server's CPU and RSS sampled at its phase boundaries.
 */
import os from 'node:os';
import { simulate, type Phase, type SimulateOptions, type SimulationReport } from '../../tools/simulator/index.js';
import { request } from '../../tools/simulator/request.js';
import { cpuSeconds, rssKiB, startServer } from './proc.js';
import type { Target, TargetName } from './targets.js';

/** What the server did during a row's measurement window. */
export interface ServerSample {
  /** Server CPU seconds between the start of publishing and the moment every viewer caught up. */
  cpuSec: number;
  windowSec: number;
  /** RSS before the first viewer connected (after warm-up). */
  rssBeforeKiB: number;
  /** RSS with every viewer's poll held, sampled `heldSampleMs` into the window. */
  rssHeldKiB: number;
  rssEndKiB: number;
  /** Newest seq of the first event after the run: log growth, since each row starts fresh. */
  headSeq: number;
}

/** One measured (or skipped) row. */
export interface Row {
  scenario: string;
  /** Identifies the row across targets, e.g. '10000'. */
  key: string;
  label: string;
  target: TargetName;
  status: 'ok' | 'n/a' | 'error';
  note?: string;
  /** The machine's 1-minute load average when the row ended: other people's work shows here. */
  load1?: number;
  report?: SimulationReport;
  server?: ServerSample;
  /** A repeated row (RowSpec.repeat): the p99 of every run, in run order; this row is the median one. */
  p99Runs?: number[];
}

/** A row to measure: simulate() options without url/token, plus when to sample RSS. */
export interface RowSpec {
  scenario: string;
  key: string;
  label: string;
  sim: Omit<SimulateOptions, 'url' | 'token' | 'onPhase' | 'onProgress'>;
  heldSampleMs?: number;
  /** Targets that do not implement what the row needs, with the reason. */
  notIn?: Partial<Record<TargetName, string>>;
  /**
   * Runs of the row per target, alternating targets (holdline, baseline, holdline, …) so a
   * busy minute on the shared machine falls on both; the median run by p99 stands for the row.
   * A tail figure from one 30 s window moves with a single pause. @default 1
   */
  repeat?: number;
}

/** Measures `spec` against every target, `spec.repeat` rounds of alternating runs; one row per target. */
export async function measureRounds(targets: Target[], spec: RowSpec, log: (line: string) => void): Promise<Row[]> {
  const rounds = Math.max(1, spec.repeat ?? 1);
  const runs = targets.map((): Row[] => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, target] of targets.entries()) runs[i]!.push(await measure(target, spec, log));
  }
  if (rounds === 1) return runs.map((r) => r[0]!);
  return runs.map((all) => {
    const ok = all.filter((r) => r.status === 'ok' && r.report);
    if (ok.length === 0) return all[0]!;
    const byP99 = [...ok].sort((a, b) => a.report!.latencyMs.p99 - b.report!.latencyMs.p99);
    const median = byP99[Math.floor((byP99.length - 1) / 2)]!;
    return { ...median, p99Runs: ok.map((r) => r.report!.latencyMs.p99) };
  });
}

const SERVER_CORE = 0;

/** Measure `spec` against `target` (a fresh server process each time). */
export async function measure(target: Target, spec: RowSpec, log: (line: string) => void): Promise<Row> {
  const base = { scenario: spec.scenario, key: spec.key, label: spec.label, target: target.name };
  const skip = spec.notIn?.[target.name] ?? target.missing;
  if (skip) return { ...base, status: 'n/a', note: skip };
  const server = target.start ? await target.start(SERVER_CORE) : await startServer(target.name, target.argv, target.env, SERVER_CORE);
  const protocol = target.protocol ?? 'holdline';
  try {
    // Warm-up, not measured: enough answers (500 viewers × 60 publishes) that V8 has optimised
    // the poll and wake paths of either server; a cold first wake of 1,000 answers otherwise runs
    // ~8× slower and its backlog alone sets a 30 s row's p99.
    await simulate({
      url: server.url,
      token: target.token,
      events: ['warmup'],
      viewers: 500,
      rampMs: 500,
      durationMs: 3000,
      publishRate: spec.sim.publishRate ? 20 : 0,
      viewerPrefix: 'w',
      settleMs: 3000,
      protocol,
      // The row's own transport, so the paths it measures are the optimised ones.
      ...(spec.sim.transport ? { transport: spec.sim.transport } : {}),
    });
    const s: ServerSample = { cpuSec: 0, windowSec: 0, rssBeforeKiB: 0, rssHeldKiB: 0, rssEndKiB: 0, headSeq: 0 };
    let cpuStart = 0;
    let windowStart = 0;
    let heldTimer: NodeJS.Timeout | undefined;
    const onPhase = (phase: Phase): void => {
      if (phase === 'joining') s.rssBeforeKiB = rssKiB(server.pid);
      if (phase === 'publishing') {
        cpuStart = cpuSeconds(server.pid);
        windowStart = performance.now();
        heldTimer = setTimeout(() => (s.rssHeldKiB = rssKiB(server.pid)), spec.heldSampleMs ?? 0);
      }
      if (phase === 'settled') {
        s.cpuSec = cpuSeconds(server.pid) - cpuStart;
        s.windowSec = (performance.now() - windowStart) / 1000;
        s.rssEndKiB = rssKiB(server.pid);
        if (s.rssHeldKiB === 0) s.rssHeldKiB = s.rssEndKiB;
      }
    };
    const report = await simulate({ ...spec.sim, url: server.url, token: target.token, onPhase, protocol });
    clearTimeout(heldTimer);
    if (protocol === 'nchan') {
      s.headSeq = report.headSeq[spec.sim.events[0]!] ?? 0;
    } else {
      const join = await request(new URL(server.url), 'GET', `/events/${encodeURIComponent(spec.sim.events[0]!)}/poll?viewer=bench`);
      if (join.status === 200) s.headSeq = (JSON.parse(join.body.toString()) as { snapshot?: { seq: number } }).snapshot?.seq ?? 0;
    }
    const unavailable = report.unavailable.length > 0 ? `not available: ${report.unavailable.join(', ')}` : undefined;
    log(
      `  ${target.name.padEnd(8)} ${spec.label}: p99 ${report.latencyMs.p99} ms, ${report.deliveredPerSec}/s delivered, ` +
        `server ${((s.cpuSec / Math.max(s.windowSec, 1e-9)) * 100).toFixed(0)}% CPU, sim ${(report.simulatorCpu * 100).toFixed(0)}%, ` +
        `gaps ${report.gaps} dup ${report.duplicates} ooo ${report.outOfOrder} behind ${report.behind}${unavailable ? `, ${unavailable}` : ''}`,
    );
    return { ...base, status: unavailable ? 'n/a' : 'ok', note: unavailable, report, server: s, load1: os.loadavg()[0] };
  } catch (err) {
    log(`  ${target.name.padEnd(8)} ${spec.label}: ERROR ${(err as Error).message}`);
    return { ...base, status: 'error', note: (err as Error).message.split('\n')[0] };
  } finally {
    await server.stop();
  }
}
