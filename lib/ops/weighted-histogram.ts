import type { Metric, Registry } from 'prom-client';

interface Series {
  /** Per-bucket counts, not cumulative; the last slot is above every bound (+Inf). */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram whose observations carry a weight: one delta answered to 10,000 held
 * polls is one call observing the same latency 10,000 times, not 10,000 calls. prom-client's
 * Histogram has no weight, so this one renders itself through the registry's metric contract.
 * One label, whose values must come from a closed set.
 */
export class WeightedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly label: string;
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, Series>();

  constructor(o: { name: string; help: string; label: string; buckets: readonly number[]; registry: Registry }) {
    this.name = o.name;
    this.help = o.help;
    this.label = o.label;
    this.bounds = [...o.buckets].sort((a, b) => a - b);
    o.registry.registerMetric(this as unknown as Metric);
  }

  /** Records `weight` observations of `value` under the label value `labelValue`. */
  observe(labelValue: string, value: number, weight = 1): void {
    if (!Number.isFinite(value) || !(weight > 0)) return;
    let s = this.series.get(labelValue);
    if (!s) this.series.set(labelValue, (s = { counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 }));
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    s.counts[i]! += weight;
    s.sum += value * weight;
    s.count += weight;
  }

  /** The registry's view: cumulative buckets, sum and count per label value. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: unknown[] }> {
    const values: unknown[] = [];
    for (const [labelValue, s] of this.series) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { [this.label]: labelValue, le }, value: acc });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { [this.label]: labelValue, le: '+Inf' }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: { [this.label]: labelValue }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [this.label]: labelValue }, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Forgets every observation (registry.resetMetrics). */
  reset(): void {
    this.series.clear();
  }
}
