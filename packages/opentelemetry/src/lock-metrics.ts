import type {
  Attributes,
  BatchObservableCallback,
  Counter,
  Histogram,
  Meter,
  ObservableUpDownCounter,
} from '@opentelemetry/api';
import { DLOCK_ATTRIBUTES, DLOCK_METRICS } from './telemetry-names.js';

// Seconds, from a local hand-over (well under 1 ms) to a long cron job's hold. The SDK's default
// boundaries (0 .. 10 000) are meant for milliseconds and would put every wait in the first bucket.
const DURATION_BUCKETS_S = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];

/** The instruments of one instrumentation, created once from its meter. */
export class LockMetrics {
  readonly waitDuration: Histogram;
  readonly holdDuration: Histogram;
  readonly acquisitions: Counter;
  readonly losses: Counter;
  readonly skips: Counter;
  readonly renewals: Counter;
  readonly renewalFailures: Counter;
  readonly stallDuration: Histogram;
  readonly #held: ObservableUpDownCounter;
  readonly #waiting: ObservableUpDownCounter;
  readonly #meter: Meter;
  readonly #observe: BatchObservableCallback;
  /** The series with a lock held or a call waiting, by key and backend. */
  readonly #live = new Map<string, MetricSeries>();
  /** Series that went back to 0 since the last collection: reported at 0 once, then forgotten. */
  readonly #settled = new Set<MetricSeries>();

  constructor(meter: Meter) {
    this.#meter = meter;
    const duration = (name: string, description: string) =>
      meter.createHistogram(name, {
        description,
        unit: 's',
        advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
      });
    const counter = (name: string, description: string, unit: string) =>
      meter.createCounter(name, { description, unit });
    this.waitDuration = duration(
      DLOCK_METRICS.waitDuration,
      'Time from asking for a lock to holding it, or to giving up.',
    );
    this.holdDuration = duration(DLOCK_METRICS.holdDuration, 'Time a lock was held, until released or lost.');
    this.acquisitions = counter(
      DLOCK_METRICS.acquisitions,
      'Acquisitions (one per call and key), by outcome.',
      '{acquisition}',
    );
    this.losses = counter(
      DLOCK_METRICS.losses,
      'Held locks that were lost (lease ran out, store dropped them).',
      '{lock}',
    );
    this.skips = counter(
      DLOCK_METRICS.skips,
      'Calls that did not run their work because the lock stayed taken.',
      '{call}',
    );
    this.renewals = counter(DLOCK_METRICS.renewals, 'Lease renewals.', '{renewal}');
    this.renewalFailures = counter(
      DLOCK_METRICS.renewalFailures,
      'Lease renewals that did not reach the store (retried while the lease lasts).',
      '{renewal}',
    );
    this.stallDuration = meter.createHistogram(DLOCK_METRICS.stallDuration, {
      description: 'Event-loop stalls long enough to threaten held leases (no renewal could run).',
      unit: 's',
    });
    // Asynchronous up-down counters: a call changes a number in a Map (no SDK call, no attribute
    // hashing); the SDK reads the numbers once per collection.
    this.#held = meter.createObservableUpDownCounter(DLOCK_METRICS.held, {
      description: 'Locks this process holds.',
      unit: '{lock}',
    });
    this.#waiting = meter.createObservableUpDownCounter(DLOCK_METRICS.waiting, {
      description: 'Calls of this process waiting for a lock (asked, not yet acquired or failed).',
      unit: '{call}',
    });
    this.#observe = (result) => {
      for (const series of this.#live.values()) {
        result.observe(this.#held, series.held, series.attributes);
        result.observe(this.#waiting, series.waiting, series.attributes);
      }
      for (const series of this.#settled) {
        if (this.#live.has(series.id)) continue; // busy again: reported above
        result.observe(this.#held, 0, series.attributes);
        result.observe(this.#waiting, 0, series.attributes);
      }
      this.#settled.clear();
    };
    meter.addBatchObservableCallback(this.#observe, [this.#held, this.#waiting]);
  }

  /**
   * The attribute sets of one key and backend, made once per acquisition (not per measurement).
   * Keys seen once do not stay in memory: a series is forgotten when nothing is held or waiting.
   */
  series(key: string | undefined, backend: string): MetricSeries {
    const id = key === undefined ? `\u0000${backend}` : `${key}\u0000${backend}`;
    const live = this.#live.get(id);
    if (live) return live;
    const attributes: Attributes =
      key === undefined
        ? { [DLOCK_ATTRIBUTES.backend]: backend }
        : { [DLOCK_ATTRIBUTES.key]: key, [DLOCK_ATTRIBUTES.backend]: backend };
    return new MetricSeries(id, attributes);
  }

  /** Change the number of held locks (`dlock.lock.held`) of a series. */
  addHeld(series: MetricSeries, delta: number): void {
    series.held += delta;
    this.#track(series);
  }

  /** Change the number of waiting calls (`dlock.lock.waiting`) of a series. */
  addWaiting(series: MetricSeries, delta: number): void {
    series.waiting += delta;
    this.#track(series);
  }

  /** Stop reporting the up-down counters (uninstrument). */
  stop(): void {
    this.#meter.removeBatchObservableCallback(this.#observe, [this.#held, this.#waiting]);
    this.#live.clear();
    this.#settled.clear();
  }

  #track(series: MetricSeries): void {
    if (series.held !== 0 || series.waiting !== 0) {
      this.#live.set(series.id, series);
      return;
    }
    this.#live.delete(series.id);
    // Bounded, for a meter that never collects (the no-op one) with raw keys as attributes.
    if (this.#settled.size < MAX_SETTLED_SERIES) this.#settled.add(series);
  }
}

const MAX_SETTLED_SERIES = 10_000;

/** One key and backend: its metric attribute sets, prebuilt, and its up-down counts. */
export class MetricSeries {
  readonly id: string;
  /** Key and backend: the attributes of the up-down counters and the loss/renewal counters. */
  readonly attributes: Attributes;
  held = 0;
  waiting = 0;
  readonly #with = new Map<string, Map<string, Attributes>>();

  constructor(id: string, attributes: Attributes) {
    this.id = id;
    this.attributes = attributes;
  }

  /** `attributes` plus one more (outcome, hold end, skip reason), built once per value. */
  with(name: string, value: string): Attributes {
    let byValue = this.#with.get(name);
    if (!byValue) {
      byValue = new Map();
      this.#with.set(name, byValue);
    }
    let attributes = byValue.get(value);
    if (!attributes) {
      attributes = { ...this.attributes, [name]: value };
      byValue.set(value, attributes);
    }
    return attributes;
  }
}
