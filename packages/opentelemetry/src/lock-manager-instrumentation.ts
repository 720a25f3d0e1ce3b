import type { LockCallEvent, LockErrorCode, LockManagerEvents } from '@dlock/core';
import {
  type Attributes,
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
} from '@opentelemetry/api';
import type { KeyAttributeValues } from './key-attribute.js';
import type { LockMetrics, MetricSeries } from './lock-metrics.js';
import { DLOCK_ATTRIBUTES as A, type AcquireOutcome, type HoldEnd } from './telemetry-names.js';

/** One acquisition from `acquiring` to its end: the span, and what its hold span will need. */
interface PendingAcquisition {
  readonly span: Span;
  /** The caller's context at `acquiring`: the parent of both spans. */
  readonly parent: Context;
  readonly key: KeyAttributeValues;
  readonly series: MetricSeries;
  contended: boolean;
}

/** One held lock, from `acquired` to `released`/`lost`. */
interface Hold {
  readonly span: Span;
  readonly series: MetricSeries;
  renewals: number;
  renewalFailures: number;
}

const OUTCOME_BY_CODE: Partial<Record<LockErrorCode, AcquireOutcome>> = {
  LOCK_NOT_ACQUIRED: 'not_acquired',
  LOCK_TIMEOUT: 'timeout',
  LOCK_ABORTED: 'aborted',
};

/** The payload of manager event `E`. */
type EventOf<E extends keyof LockManagerEvents> = LockManagerEvents[E][0];

/** One listener per manager event. */
type Listeners = { [E in keyof LockManagerEvents]: (...args: LockManagerEvents[E]) => void };

/**
 * The bookkeeping of one instrumented manager: its listeners turn the manager's events into spans
 * (open ones kept by acquisition token) and metric recordings.
 */
export class LockManagerInstrumentation {
  readonly #tracer: Tracer;
  readonly #metrics: LockMetrics;
  readonly #keyOf: (event: LockCallEvent) => KeyAttributeValues;
  readonly #pending = new Map<string, PendingAcquisition>();
  readonly #holds = new Map<string, Hold>();

  constructor(tracer: Tracer, lockMetrics: LockMetrics, keyOf: (event: LockCallEvent) => KeyAttributeValues) {
    this.#tracer = tracer;
    this.#metrics = lockMetrics;
    this.#keyOf = keyOf;
  }

  listeners(): Listeners {
    return {
      acquiring: (event) => this.#acquiring(event),
      contended: (event) => this.#contended(event),
      acquired: (event) => this.#acquired(event),
      failed: (event) => this.#failed(event),
      // Always followed by `failed` (LOCK_TIMEOUT), which ends the span and counts the outcome.
      timeout: () => {},
      renewed: (event) => this.#renewed(event),
      renewalFailed: (event) => this.#renewalFailed(event),
      released: (event) => this.#released(event),
      lost: (event) => this.#lost(event),
      skipped: (event) => this.#skipped(event),
      lag: (event) => this.#metrics.stallDuration.record(event.stalledMs / 1000),
    };
  }

  /** End every open span and take back what the up-down counters still count (uninstrument). */
  endAll(): void {
    for (const pending of this.#pending.values()) pending.span.end();
    this.#pending.clear();
    for (const hold of this.#holds.values()) this.#endHold(hold, 'unknown');
    this.#holds.clear();
    this.#metrics.stop();
  }

  // Emitted synchronously in the caller's async context: context.active() is the caller's, so the
  // span becomes a child of whatever span the caller has open (an HTTP request, a job).
  #acquiring(event: EventOf<'acquiring'>): void {
    const key = this.#keyOf(event);
    const parent = context.active();
    const span = this.#tracer.startSpan(
      'dlock.acquire',
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          ...callSpanAttributes(event, key),
          [A.maxWaitMs]: event.waitMs,
          [A.leaseMs]: event.leaseMs,
        },
      },
      parent,
    );
    const series = this.#metrics.series(key.metric, event.backend);
    this.#metrics.addWaiting(series, 1);
    this.#pending.set(event.token, { span, parent, key, series, contended: false });
  }

  #contended(event: EventOf<'contended'>): void {
    const pending = this.#pending.get(event.token);
    if (pending) pending.contended = true;
  }

  #acquired(event: EventOf<'acquired'>): void {
    const pending = this.#takePending(event.token);
    const key = pending?.key ?? this.#keyOf(event);
    const series = pending?.series ?? this.#metrics.series(key.metric, event.backend);
    // Held before no longer waiting: the series must not settle at 0 in between.
    this.#metrics.addHeld(series, 1);
    if (pending) this.#metrics.addWaiting(series, -1);
    this.#countAcquisition(series, 'acquired', event.waitedMs);
    if (pending) {
      pending.span.setAttributes({
        [A.outcome]: 'acquired',
        [A.contended]: event.contended || pending.contended,
        [A.waitedMs]: event.waitedMs,
      });
      if (event.fencingToken !== undefined) pending.span.setAttribute(A.fencingToken, event.fencingToken);
      pending.span.end();
    }
    const attributes = callSpanAttributes(event, key);
    if (event.fencingToken !== undefined) attributes[A.fencingToken] = event.fencingToken;
    const span = this.#tracer.startSpan(
      'dlock.hold',
      { kind: SpanKind.INTERNAL, attributes },
      pending?.parent ?? context.active(),
    );
    this.#holds.set(event.token, { span, series, renewals: 0, renewalFailures: 0 });
  }

  #failed(event: EventOf<'failed'>): void {
    const pending = this.#takePending(event.token);
    const { code } = event.error;
    const outcome = OUTCOME_BY_CODE[code] ?? 'error';
    const series = pending?.series ?? this.#seriesOf(event);
    if (pending) this.#metrics.addWaiting(series, -1);
    this.#countAcquisition(series, outcome, event.waitedMs);
    if (!pending) return;
    const { span } = pending;
    span.setAttributes({
      [A.outcome]: outcome,
      [A.contended]: pending.contended,
      [A.waitedMs]: event.waitedMs,
    });
    // A try-once call that finds the key taken, or a caller that cancels, is an answer, not a
    // failure of the operation (like a 409); a wait that ran out or a broken store is.
    if (outcome === 'timeout' || outcome === 'error') {
      span.setAttribute(A.errorType, code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: event.error.message });
    }
    span.end();
  }

  #renewed(event: EventOf<'renewed'>): void {
    const hold = this.#holds.get(event.token);
    if (hold) hold.renewals++;
    this.#metrics.renewals.add(1, (hold?.series ?? this.#seriesOf(event)).attributes);
  }

  #renewalFailed(event: EventOf<'renewalFailed'>): void {
    const hold = this.#holds.get(event.token);
    if (hold) hold.renewalFailures++;
    this.#metrics.renewalFailures.add(1, (hold?.series ?? this.#seriesOf(event)).attributes);
  }

  #released(event: EventOf<'released'>): void {
    const hold = this.#takeHold(event.token);
    if (hold) this.#endHold(hold, 'released', event.heldMs);
    else this.#recordHold(this.#seriesOf(event), 'released', event.heldMs);
  }

  #lost(event: EventOf<'lost'>): void {
    const hold = this.#takeHold(event.token);
    const series = hold?.series ?? this.#seriesOf(event);
    this.#metrics.losses.add(1, series.attributes);
    if (!hold) {
      this.#recordHold(series, 'lost', event.heldMs);
      return;
    }
    hold.span.recordException(event.error);
    hold.span.setAttribute(A.errorType, event.error.code);
    hold.span.setStatus({ code: SpanStatusCode.ERROR, message: event.error.message });
    this.#endHold(hold, 'lost', event.heldMs);
  }

  #skipped(event: EventOf<'skipped'>): void {
    this.#metrics.skips.add(1, this.#seriesOf(event).with(A.skipReason, event.reason));
  }

  #endHold(hold: Hold, end: HoldEnd, heldMs?: number): void {
    this.#metrics.addHeld(hold.series, -1);
    if (heldMs !== undefined) this.#recordHold(hold.series, end, heldMs);
    hold.span.setAttributes({
      [A.holdEnd]: end,
      [A.renewals]: hold.renewals,
      [A.renewalFailures]: hold.renewalFailures,
    });
    if (heldMs !== undefined) hold.span.setAttribute(A.heldMs, heldMs);
    hold.span.end();
  }

  #recordHold(series: MetricSeries, end: HoldEnd, heldMs: number): void {
    this.#metrics.holdDuration.record(heldMs / 1000, series.with(A.holdEnd, end));
  }

  #countAcquisition(series: MetricSeries, outcome: AcquireOutcome, waitedMs: number): void {
    const attributes = series.with(A.outcome, outcome);
    this.#metrics.acquisitions.add(1, attributes);
    this.#metrics.waitDuration.record(waitedMs / 1000, attributes);
  }

  #takePending(token: string): PendingAcquisition | undefined {
    const pending = this.#pending.get(token);
    if (!pending) return undefined;
    this.#pending.delete(token);
    return pending;
  }

  #takeHold(token: string): Hold | undefined {
    const hold = this.#holds.get(token);
    if (hold) this.#holds.delete(token);
    return hold;
  }

  #seriesOf(event: LockCallEvent): MetricSeries {
    return this.#metrics.series(this.#keyOf(event).metric, event.backend);
  }
}

/** The attributes both spans of a call carry (none undefined: an SDK would export them empty). */
function callSpanAttributes(event: LockCallEvent, key: KeyAttributeValues): Attributes {
  const attributes: Attributes = { [A.backend]: event.backend };
  if (key.span !== undefined) attributes[A.key] = key.span;
  if (event.label !== undefined) attributes[A.label] = event.label;
  return attributes;
}
