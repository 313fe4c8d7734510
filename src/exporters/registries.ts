/**
 * prom-client metrics that live in several registries at once (the exporter keeps one registry per
 * exposition format). Each registry gets its own metric object, updated together: prom-client
 * renames a counter object in place when a registry renders it as OpenMetrics (the family loses
 * `_total`), so a counter shared between the text and OpenMetrics registries would be written
 * without `_total` in every text scrape after the first OpenMetrics one.
 */
import client from 'prom-client';

export type Registries = readonly client.Registry[];

/** A counter per registry; `inc` and `reset` reach all of them, `get` reads the first. */
export class PerRegistryCounter<T extends string = string> {
  private readonly parts: client.Counter<T>[];

  constructor(registers: Registries, config: Omit<client.CounterConfiguration<T>, 'registers'>) {
    this.parts = registers.map((r) => new client.Counter<T>({ ...config, registers: [r] }));
  }

  inc(value?: number): void;
  inc(labels: client.LabelValues<T>, value?: number): void;
  inc(a?: number | client.LabelValues<T>, b?: number): void {
    for (const p of this.parts) {
      if (a === undefined || typeof a === 'number') p.inc(a);
      else p.inc(a, b);
    }
  }

  get(): Promise<client.MetricObjectWithValues<client.MetricValue<T>>> {
    return this.parts[0].get();
  }
}

/** A gauge per registry; `set` reaches all of them, `get` reads the first. */
export class PerRegistryGauge<T extends string = string> {
  private readonly parts: client.Gauge<T>[];

  constructor(registers: Registries, config: Omit<client.GaugeConfiguration<T>, 'registers'>) {
    this.parts = registers.map((r) => new client.Gauge<T>({ ...config, registers: [r] }));
  }

  set(value: number): void;
  set(labels: client.LabelValues<T>, value: number): void;
  set(a: number | client.LabelValues<T>, b?: number): void {
    for (const p of this.parts) {
      if (typeof a === 'number') p.set(a);
      else p.set(a, b!);
    }
  }

  get(): Promise<client.MetricObjectWithValues<client.MetricValue<T>>> {
    return this.parts[0].get();
  }
}

/** A histogram per registry; `observe` reaches all of them, `get` reads the first. */
export class PerRegistryHistogram<T extends string = string> {
  private readonly parts: client.Histogram<T>[];

  constructor(registers: Registries, config: Omit<client.HistogramConfiguration<T>, 'registers'>) {
    this.parts = registers.map((r) => new client.Histogram<T>({ ...config, registers: [r] }));
  }

  observe(value: number): void;
  observe(labels: client.LabelValues<T>, value: number): void;
  observe(a: number | client.LabelValues<T>, b?: number): void {
    for (const p of this.parts) {
      if (typeof a === 'number') p.observe(a);
      else p.observe(a, b!);
    }
  }

  get(): Promise<client.MetricObjectWithValues<client.MetricValue<T>>> {
    return this.parts[0].get();
  }
}
