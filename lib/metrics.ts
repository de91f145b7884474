import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** What the metrics read from the running service at scrape time. */
export interface MetricsSources {
  heldPolls(): number;
}

/** The Prometheus registry of one server; a registry per instance so tests can make many. */
export class Metrics {
  readonly registry = new Registry();

  constructor(sources: MetricsSources, options: { processMetrics?: boolean } = {}) {
    new Gauge({
      name: 'holdline_held_polls',
      help: 'Poll requests held open right now, waiting for news.',
      registers: [this.registry],
      collect() {
        this.set(sources.heldPolls());
      },
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'holdline_' });
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
