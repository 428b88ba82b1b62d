import { REMOTE_FAILURE_KINDS, type RemoteFailureKind } from './failures.js';

/** Summary of a set of durations, in milliseconds. Percentiles cover the latest 4,096 samples. */
export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
}

/**
 * A point-in-time copy of a {@link RemoteMetrics}. Counters obey, once no call is in flight:
 * - `attempts = calls + retries` (every call has one first attempt);
 * - `successes + failed = calls`;
 * - `sum(attemptFailures) = retries + failed` (a failed attempt is retried or ends its call).
 *
 * Never holds credentials: `recentErrors` are scrubbed before they are recorded.
 */
export interface RemoteMetricsSnapshot {
  /** Logical calls started (cache hits excluded). */
  readonly calls: number;
  /** Requests sent: first attempts plus retries. */
  readonly attempts: number;
  /** Attempts after the first, over all calls. */
  readonly retries: number;
  /** Calls that ended with a usable answer. */
  readonly successes: number;
  /** Calls that ended as failures, after retries. */
  readonly failed: number;
  /** Calls that ended as failures, by the kind of their last attempt. */
  readonly failures: Readonly<Record<RemoteFailureKind, number>>;
  /** Every failed attempt, retried or final, by kind. */
  readonly attemptFailures: Readonly<Record<RemoteFailureKind, number>>;
  /** Answers served from the cache without a call. */
  readonly cacheHits: number;
  /** Calls cancelled by the caller before their first attempt (not counted in `calls`). */
  readonly cancelled: number;
  /** Attempts running now, and the most seen at once. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Duration of single attempts (each is bounded by the per-attempt timeout). */
  readonly attemptLatency: LatencySummary;
  /** Duration of whole calls, retries and back-off included. */
  readonly callLatency: LatencySummary;
  /** The last few failure messages, scrubbed, newest last. */
  readonly recentErrors: readonly string[];
}

function zeroKinds(): Record<RemoteFailureKind, number> {
  return Object.fromEntries(REMOTE_FAILURE_KINDS.map((k) => [k, 0])) as Record<RemoteFailureKind, number>;
}

const RESERVOIR = 4096;

class LatencyTracker {
  private count = 0;
  private sum = 0;
  private max = 0;
  private readonly ring: number[] = [];
  private next = 0;

  add(ms: number): void {
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    if (this.ring.length < RESERVOIR) this.ring.push(ms);
    else this.ring[this.next] = ms;
    this.next = (this.next + 1) % RESERVOIR;
  }

  summary(): LatencySummary {
    const sorted = [...this.ring].sort((a, b) => a - b);
    const at = (q: number) =>
      sorted.length === 0
        ? 0
        : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number);
    return {
      count: this.count,
      meanMs: this.count === 0 ? 0 : this.sum / this.count,
      p50Ms: at(0.5),
      p95Ms: at(0.95),
      maxMs: this.max,
    };
  }
}

/**
 * Counters shared by every remote call of an evaluator or critic: calls, attempts, retries,
 * failures by kind, cache hits, in-flight attempts and latencies. Recorded by the remote
 * runner; read with {@link RemoteMetrics.snapshot}, cleared with {@link RemoteMetrics.reset}.
 */
export class RemoteMetrics {
  private calls = 0;
  private attempts = 0;
  private retries = 0;
  private successes = 0;
  private failures = zeroKinds();
  private attemptFailures = zeroKinds();
  private cacheHits = 0;
  private cancelled = 0;
  private inFlight = 0;
  private maxInFlight = 0;
  private attemptLatency = new LatencyTracker();
  private callLatency = new LatencyTracker();
  private recentErrors: string[] = [];
  private readonly keepErrors: number;

  /** @param keepErrors how many recent (scrubbed) failure messages to keep; default 10. */
  constructor(keepErrors = 10) {
    this.keepErrors = keepErrors;
  }

  /** A call starts (its first attempt follows). */
  recordCall(): void {
    this.calls++;
  }

  /** An attempt is sent; `retry` when it is not the call's first. */
  recordAttemptStart(retry: boolean): void {
    this.attempts++;
    if (retry) this.retries++;
    this.inFlight++;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
  }

  /** An attempt ends: `undefined` kind when it succeeded. `message` must already be scrubbed. */
  recordAttemptEnd(latencyMs: number, kind?: RemoteFailureKind, message?: string): void {
    this.inFlight--;
    this.attemptLatency.add(latencyMs);
    if (kind !== undefined) {
      this.attemptFailures[kind]++;
      if (message !== undefined) {
        this.recentErrors.push(`${kind}: ${message}`);
        if (this.recentErrors.length > this.keepErrors) this.recentErrors.shift();
      }
    }
  }

  /** A call ends: `undefined` kind when it succeeded. */
  recordCallEnd(latencyMs: number, kind?: RemoteFailureKind): void {
    this.callLatency.add(latencyMs);
    if (kind === undefined) this.successes++;
    else this.failures[kind]++;
  }

  /** An answer came from the cache. */
  recordCacheHit(): void {
    this.cacheHits++;
  }

  /** A call was cancelled before its first attempt. */
  recordCancelled(): void {
    this.cancelled++;
  }

  /** A copy of the counters. */
  snapshot(): RemoteMetricsSnapshot {
    const failed = Object.values(this.failures).reduce((a, b) => a + b, 0);
    return {
      calls: this.calls,
      attempts: this.attempts,
      retries: this.retries,
      successes: this.successes,
      failed,
      failures: { ...this.failures },
      attemptFailures: { ...this.attemptFailures },
      cacheHits: this.cacheHits,
      cancelled: this.cancelled,
      inFlight: this.inFlight,
      maxInFlight: this.maxInFlight,
      attemptLatency: this.attemptLatency.summary(),
      callLatency: this.callLatency.summary(),
      recentErrors: [...this.recentErrors],
    };
  }

  /** Clears every counter (attempts in flight stay counted in `inFlight`). */
  reset(): void {
    this.calls = 0;
    this.attempts = 0;
    this.retries = 0;
    this.successes = 0;
    this.failures = zeroKinds();
    this.attemptFailures = zeroKinds();
    this.cacheHits = 0;
    this.cancelled = 0;
    this.maxInFlight = this.inFlight;
    this.attemptLatency = new LatencyTracker();
    this.callLatency = new LatencyTracker();
    this.recentErrors = [];
  }
}
