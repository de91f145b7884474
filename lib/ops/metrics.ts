import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { POLL_OUTCOMES, type DeliveryPath, type HubObserver, type PollOutcome, type StoreObserver, type StoreOp } from '../observer.js';
import { DELTA_KINDS, type DeltaKind } from '../protocol.js';
import type { LogEntry } from '../model/records.js';
import { WeightedHistogram } from './weighted-histogram.js';
import { END_REASONS, TRANSPORTS, type EndReason, type StreamObserver, type Transport } from '../poll/follower.js';

/** What the metrics read from the running service at scrape time. */
export interface MetricsSources {
  heldPolls(): number;
  /** Open streams of a transport (SSE, WebSocket). */
  streams(transport: Transport): number;
  /** True from the start of a drain. */
  draining(): boolean;
  /** Events that exist and have not ended (a store read: may reject). */
  eventsOpen(): Promise<number>;
  /** Viewers present across the events being watched, and the `topN` largest (a store read). */
  viewerTotals(topN: number): Promise<{ total: number; top: Array<{ event: string; viewers: number }> }>;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop lag, GC). @default true */
  processMetrics?: boolean;
  /** Events that get a series of their own (METRICS_TOP_EVENTS). @default 10 */
  topEvents?: number;
  /** How long the store-reading gauges (viewers, events open) are reused between scrapes (METRICS_CACHE_MS). @default 5000 */
  cacheMs?: number;
}

/**
 * A scrape-time reading reused for `ms`: every scrape, from however many scrapers, costs the
 * store at most one pass per period. A failed reading is not kept.
 */
function cached<T>(ms: number, read: () => Promise<T>, fallback: T): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | null = null;
  return () => {
    const now = performance.now();
    if (last === null || now - last.at >= ms) {
      const entry = { at: now, value: read().catch(() => {
        if (last === entry) last = null;
        return fallback;
      }) };
      last = entry;
    }
    return last.value;
  };
}

/** One server's counters since it started (Metrics.totals), for the dashboard. */
export interface ServerTotals {
  heldPolls: number;
  /** Deltas this server appended, by kind. */
  deltas: Record<string, number>;
  /** Poll requests answered, by outcome. */
  answers: Record<string, number>;
  responses: { total: number; clientErrors: number; serverErrors: number };
  rateLimited: number;
  storeErrors: number;
}

/** Seconds from a delta's publication to its answer: 1 ms to a minute. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Seconds a store call takes: 50 µs (memory) to 2.5 s (a struggling Redis). */
/** Ages at which held polls were abandoned: around the timeouts proxies and load balancers use. */
const CUT_AGE_BUCKETS = [1, 2, 5, 10, 15, 20, 25, 30, 45, 60, 90, 120];
const STORE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5];

/**
 * The Prometheus registry of one server (a registry per instance, so tests can make many), and
 * the observer the hub, the poller and the instrumented store report to. Labels come from
 * closed sets (outcomes, kinds, store methods, route templates, status codes); per-event series
 * exist only for the top METRICS_TOP_EVENTS events by viewers.
 */
export class Metrics implements HubObserver, StoreObserver, StreamObserver {
  readonly registry = new Registry();
  private readonly answers: Counter<'outcome'>;
  private readonly appendedKinds: Counter<'kind'>;
  private readonly deliveries: Counter;
  private readonly latency: WeightedHistogram;
  private readonly storeSeconds: WeightedHistogram;
  private readonly storeErrors: Counter<'op'>;
  private readonly rateLimitedTotal: Counter<'route'>;
  private readonly cutAge: Histogram;
  private readonly streamsOpened: Counter<'transport'>;
  private readonly streamEnds: Counter<'transport' | 'reason'>;
  /** Bound children: a hot-path inc() must not hash a label object each time. */
  private readonly answerChild = new Map<PollOutcome, { inc(n?: number): void }>();
  private readonly kindChild = new Map<DeltaKind, { inc(n?: number): void }>();
  /**
   * HTTP answers tallied since the last scrape, by method, route and status: prom-client hashes
   * the label object on every inc (even through a bound child), and this is hit once per poll,
   * so the counts go to the Counter when Prometheus asks (its collect hook).
   */
  private readonly responseTally = new Map<string, Map<string, Map<number, number>>>();

  constructor(sources: MetricsSources, options: MetricsOptions = {}) {
    const registers = [this.registry];
    const topEvents = options.topEvents ?? 10;
    // Two gauges read the same counts: one store pass per period, not two per scrape.
    const cacheMs = options.cacheMs ?? 5000;
    const totals = cached(cacheMs, () => sources.viewerTotals(topEvents), { total: Number.NaN, top: [] });
    const eventsOpen = cached(cacheMs, () => sources.eventsOpen(), Number.NaN);
    new Gauge({
      name: 'holdline_held_polls',
      help: 'Poll requests held open right now, waiting for news.',
      registers,
      collect() {
        this.set(sources.heldPolls());
      },
    });
    new Gauge({
      name: 'holdline_connections',
      help: 'Clients following events right now, by transport: poll (held poll requests), sse (event streams), ws (WebSockets following an event).',
      labelNames: ['transport'],
      registers,
      collect() {
        this.set({ transport: 'poll' }, sources.heldPolls());
        for (const transport of TRANSPORTS) this.set({ transport }, sources.streams(transport));
      },
    });
    new Gauge({
      name: 'holdline_draining',
      help: '1 while the server drains (after SIGTERM/SIGINT), else 0.',
      registers,
      collect() {
        this.set(sources.draining() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'holdline_events_open',
      help: 'Events that exist and have not ended, as the store sees them (store-wide on Redis: use max, not sum, across servers).',
      registers,
      async collect() {
        // A store that does not answer must not fail the whole scrape; the store metrics show why.
        this.set(await eventsOpen());
      },
    });
    new Gauge({
      name: 'holdline_viewers',
      help: 'Viewers present on the events this server is serving (store-wide counts on Redis: use max by event, not sum, across servers).',
      registers,
      async collect() {
        this.set((await totals()).total);
      },
    });
    new Gauge({
      name: 'holdline_event_viewers',
      help: 'Viewers present on each of the METRICS_TOP_EVENTS events with the most viewers.',
      labelNames: ['event'],
      registers,
      async collect() {
        const { top } = await totals();
        this.reset();
        for (const { event, viewers } of top) this.set({ event }, viewers);
      },
    });
    this.answers = new Counter({
      name: 'holdline_poll_answers_total',
      help: 'Poll requests answered, by outcome (delta, reset, ended, snapshot, error, timeout, drain, aborted).',
      labelNames: ['outcome'],
      registers,
    });
    // Every outcome exists from the start at 0, so rate() and alerts see the series before the first one.
    for (const outcome of POLL_OUTCOMES) this.answerChild.set(outcome, this.answers.labels({ outcome }));
    for (const child of this.answerChild.values()) child.inc(0);
    this.appendedKinds = new Counter({
      name: 'holdline_deltas_appended_total',
      help: 'Deltas this server appended to event logs, by kind.',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of DELTA_KINDS) this.kindChild.set(kind, this.appendedKinds.labels({ kind }));
    for (const child of this.kindChild.values()) child.inc(0);
    this.deliveries = new Counter({
      name: 'holdline_deliveries_total',
      help: 'Deltas written to clients: one per delta per poll answer that carried it.',
      registers,
    });
    this.deliveries.inc(0);
    this.latency = new WeightedHistogram({
      name: 'holdline_publish_to_answer_seconds',
      help: 'From a delta\'s server timestamp to its poll answer, per delivery; path="wake" for held polls, "immediate" for polls that found it waiting.',
      label: 'path',
      buckets: LATENCY_BUCKETS,
      registry: this.registry,
    });
    // Several store calls per poll: a WeightedHistogram observes without hashing a label object.
    this.storeSeconds = new WeightedHistogram({
      name: 'holdline_store_operation_seconds',
      help: 'Duration of store calls, by Store method.',
      label: 'op',
      buckets: STORE_BUCKETS,
      registry: this.registry,
    });
    this.storeErrors = new Counter({
      name: 'holdline_store_errors_total',
      help: 'Store calls that failed (not domain refusals such as 404 or 409), by Store method.',
      labelNames: ['op'],
      registers,
    });
    this.rateLimitedTotal = new Counter({
      name: 'holdline_rate_limited_total',
      help: 'Requests refused with 429 rate_limited, by route.',
      labelNames: ['route'],
      registers,
    });
    this.cutAge = new Histogram({
      name: 'holdline_held_poll_cut_age_seconds',
      help: 'Age of held polls whose client went away before the answer: a peak at one age is a proxy cutting long requests there (docs/OPERATIONS.md).',
      buckets: CUT_AGE_BUCKETS,
      registers,
    });
    this.streamsOpened = new Counter({
      name: 'holdline_streams_opened_total',
      help: 'Streams (SSE, WebSocket follows) started, by transport.',
      labelNames: ['transport'],
      registers,
    });
    this.streamEnds = new Counter({
      name: 'holdline_stream_ends_total',
      help: 'Streams ended, by transport and reason (drain, expired, slow, ended, error, closed).',
      labelNames: ['transport', 'reason'],
      registers,
    });
    for (const transport of TRANSPORTS) {
      this.streamsOpened.inc({ transport }, 0);
      for (const reason of END_REASONS) this.streamEnds.inc({ transport, reason }, 0);
    }
    const tally = this.responseTally;
    // Registered for scrapes; its counts arrive through collect(), never through a field.
    new Counter({
      name: 'holdline_http_responses_total',
      help: 'HTTP answers, by method, route template and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
      collect() {
        for (const [method, routes] of tally) {
          for (const [route, statuses] of routes) {
            for (const [status, n] of statuses) if (n > 0) this.inc({ method, route, status: String(status) }, n);
            statuses.clear();
          }
        }
      },
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'holdline_' });
  }

  answered(outcome: PollOutcome, polls: number): void {
    if (polls > 0) this.answerChild.get(outcome)?.inc(polls);
  }

  delivered(entries: readonly LogEntry[], polls: number, path: DeliveryPath, now: number): void {
    if (polls <= 0 || entries.length === 0) return;
    this.deliveries.inc(entries.length * polls);
    for (const entry of entries) {
      this.latency.observe(path, Math.max(0, now - entry.ts) / 1000, polls);
    }
  }

  viewers(): void {
    // Presence is counted at scrape time (MetricsSources.viewerTotals), not per answer.
  }

  abandoned(ageMs: number): void {
    this.cutAge.observe(Math.max(0, ageMs) / 1000);
  }

  operation(op: StoreOp, seconds: number, failed: boolean): void {
    this.storeSeconds.observe(op, seconds);
    if (failed) this.storeErrors.inc({ op });
  }

  appended(kind: DeltaKind): void {
    this.kindChild.get(kind)?.inc();
  }

  opened(transport: Transport): void {
    this.streamsOpened.inc({ transport });
  }

  ended(transport: Transport, reason: EndReason): void {
    this.streamEnds.inc({ transport, reason });
  }

  /** A 429 rate_limited answer on this route template. */
  rateLimited(route: string): void {
    this.rateLimitedTotal.inc({ route });
  }

  /** One HTTP answer; `route` is the matched template (never the raw path) or "unmatched". */
  response(method: string, route: string, status: number): void {
    // Routes are templates and methods and statuses few, so these maps stay small.
    let routes = this.responseTally.get(method);
    if (!routes) this.responseTally.set(method, (routes = new Map()));
    let statuses = routes.get(route);
    if (!statuses) routes.set(route, (statuses = new Map()));
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }

  /**
   * This server's counters as plain numbers, read from the same series /metrics exposes (so the
   * dashboard and Prometheus never disagree): deltas appended by kind, poll answers by outcome,
   * HTTP answers by class, 429s and failed store calls, and the polls held now.
   */
  async totals(): Promise<ServerTotals> {
    const values = async (name: string) => (await this.registry.getSingleMetric(name)?.get())?.values ?? [];
    const byLabel = async (name: string, label: string) => {
      const out: Record<string, number> = {};
      for (const v of await values(name)) {
        const key = String(v.labels[label] ?? '');
        out[key] = (out[key] ?? 0) + v.value;
      }
      return out;
    };
    const responses = { total: 0, clientErrors: 0, serverErrors: 0 };
    for (const v of await values('holdline_http_responses_total')) {
      const status = Number(v.labels['status']);
      responses.total += v.value;
      if (status >= 400 && status < 500) responses.clientErrors += v.value;
      if (status >= 500) responses.serverErrors += v.value;
    }
    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    const held = (await values('holdline_held_polls'))[0]?.value ?? 0;
    return {
      heldPolls: held,
      deltas: await byLabel('holdline_deltas_appended_total', 'kind'),
      answers: await byLabel('holdline_poll_answers_total', 'outcome'),
      responses,
      rateLimited: sum(await byLabel('holdline_rate_limited_total', 'route')),
      storeErrors: sum(await byLabel('holdline_store_errors_total', 'op')),
    };
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
