/**
 * The fault harness of the tests: the proxy of bench/lib/faults.ts (shared with make chaos),
 * and its atomic DUMP/RESTORE of an event's keys (what a failover to an asynchronous replica
 * does), and clocks that run ahead. Every fault is started by the test
 * and undone by it.
 */
import type { Clock } from '../../lib/util/clock.js';
import { systemClock } from '../../lib/util/clock.js';
export { dumpKeys, eventKeys, RedisProxy } from '../../bench/lib/faults.js';

/** The system clock moved by `offsetMs`: a server whose clock is wrong. */
export function skewedClock(offsetMs: number): Clock {
  return { now: () => Date.now() + offsetMs, every: (ms, fn) => systemClock.every(ms, fn) };
}
