import { InvalidArgumentError } from '@emofeedback/core';
import { limitFunction } from 'p-limit';
import { classifyRemoteError, type RemoteFailureKind } from './failures.js';
import { RemoteMetrics } from './metrics.js';
import { backoffDelay, type RetryPolicy, resolveRetryPolicy } from './retry.js';
import { createSecretScrubber, type SecretScrubber } from './scrub.js';

/** What a remote task receives on each attempt. */
export interface RemoteAttempt {
  /** Aborts when the attempt times out or the caller cancels; pass it to the HTTP call. */
  readonly signal: AbortSignal;
  /** 0 for the first attempt, then 1, 2, … for retries. */
  readonly attempt: number;
  /** `<call>.<attempt>`, unique within the runner: send it as a request id to match server logs. */
  readonly id: string;
}

/** Reported to {@link RemoteRunnerOptions.onAttempt} when an attempt ends. */
export interface RemoteAttemptEvent {
  /** The attempt's {@link RemoteAttempt.id}. */
  readonly id: string;
  readonly attempt: number;
  readonly ok: boolean;
  /** Why it failed, when it did. */
  readonly kind?: RemoteFailureKind;
  /** The failure message, scrubbed of secrets. */
  readonly message?: string;
  readonly latencyMs: number;
  /** The server's `Retry-After`, in ms, when it sent one. */
  readonly retryAfterMs?: number;
}

/** A call that ended with a usable answer. */
export interface RemoteSuccess<T> {
  readonly ok: true;
  readonly value: T;
  /** Attempts made, retries included. */
  readonly attempts: number;
  /** Whole-call duration in ms, back-off included. */
  readonly latencyMs: number;
}

/** A call that failed after its retries. `message` is scrubbed of secrets. */
export interface RemoteFailure {
  readonly ok: false;
  readonly failure: RemoteFailureKind;
  readonly message: string;
  readonly attempts: number;
  readonly latencyMs: number;
}

/** The result of {@link RemoteRunner.run}: never a rejection. */
export type RemoteOutcome<T> = RemoteSuccess<T> | RemoteFailure;

/** Options of {@link createRemoteRunner}. */
export interface RemoteRunnerOptions {
  /** Attempts in flight at once, over every call of this runner. Default 4. */
  readonly concurrency?: number;
  /** Time limit of each attempt in ms; the attempt's signal aborts then. Default 60,000. */
  readonly timeoutMs?: number;
  /** Retry policy; missing fields take {@link DEFAULT_RETRY_POLICY}'s values. */
  readonly retry?: Partial<RetryPolicy>;
  /** Where to count; a fresh {@link RemoteMetrics} by default. */
  readonly metrics?: RemoteMetrics;
  /** Cleans failure messages; default {@link createSecretScrubber} with no known secrets. */
  readonly scrub?: SecretScrubber;
  /** Uniform draws in [0, 1) for the back-off jitter; default `Math.random`. */
  readonly random?: () => number;
  /**
   * After an attempt times out or is cancelled, how long its concurrency slot stays taken while
   * the aborted request winds down (so the server never sees more than `concurrency` requests).
   * The caller does not wait for this. Default 1,000 ms.
   */
  readonly abortGraceMs?: number;
  /** Names the work in timeout messages, e.g. `LVLM call`. Default `remote call`. */
  readonly label?: string;
  /**
   * Called when each attempt ends (logging, tracing). Messages are already scrubbed. Errors
   * thrown by the callback are ignored.
   */
  readonly onAttempt?: (event: RemoteAttemptEvent) => void;
}

/**
 * Runs remote calls with bounded concurrency, a per-attempt timeout, retries with exponential
 * back-off and jitter (honouring `Retry-After`), and failure accounting in {@link RemoteMetrics}.
 * Reusable by anything that calls a remote model: evaluators, prompt critics.
 */
export interface RemoteRunner {
  /**
   * Runs `task` until it succeeds, fails with a kind the policy does not retry, or runs out of
   * retries. Never rejects: failures come back as {@link RemoteFailure}. A task signals an
   * unusable answer by throwing {@link RemoteReplyError}; any other error is classified with
   * {@link classifyRemoteError}.
   */
  run<T>(
    task: (attempt: RemoteAttempt) => Promise<T>,
    options?: { readonly signal?: AbortSignal },
  ): Promise<RemoteOutcome<T>>;
  /** The counters this runner records into. */
  readonly metrics: RemoteMetrics;
  /** The resolved retry policy. */
  readonly policy: RetryPolicy;
  readonly concurrency: number;
  readonly timeoutMs: number;
}

type AttemptResult<T> =
  | { readonly state: 'ok'; readonly value: T }
  | {
      readonly state: 'failed';
      readonly kind: RemoteFailureKind;
      readonly message: string;
      readonly retryAfterMs?: number;
      readonly cancelled?: boolean;
    }
  | { readonly state: 'not-started' };

const now = () => performance.now();

function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(name, `expected a positive integer, got ${String(value)}.`);
  }
}

/**
 * Makes a {@link RemoteRunner}.
 * @throws InvalidArgumentError on a bad option.
 */
export function createRemoteRunner(options: RemoteRunnerOptions = {}): RemoteRunner {
  const concurrency = options.concurrency ?? 4;
  const timeoutMs = options.timeoutMs ?? 60_000;
  positiveInteger('concurrency', concurrency);
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0 && Number.isFinite(timeoutMs))) {
    throw new InvalidArgumentError(
      'timeoutMs',
      `expected a positive number of ms, got ${String(timeoutMs)}.`,
    );
  }
  const policy = resolveRetryPolicy(options.retry);
  const metrics = options.metrics ?? new RemoteMetrics();
  const scrub = options.scrub ?? createSecretScrubber();
  const random = options.random ?? Math.random;
  const abortGraceMs = options.abortGraceMs ?? 1_000;
  const label = options.label ?? 'remote call';
  // The named export (not the default one) so that the CommonJS build can load p-limit too.
  const limit = limitFunction((work: () => Promise<void>) => work(), { concurrency });
  const onAttempt = options.onAttempt;
  let callSeq = 0;

  function attemptOnce<T>(
    task: (attempt: RemoteAttempt) => Promise<T>,
    callId: number,
    attempt: number,
    callerSignal: AbortSignal | undefined,
    onStart: () => void,
  ): Promise<AttemptResult<T>> {
    const id = `${callId}.${attempt}`;
    return new Promise<AttemptResult<T>>((resolve) => {
      limit(
        () =>
          new Promise<void>((releaseSlot) => {
            if (callerSignal?.aborted) {
              resolve({ state: 'not-started' });
              releaseSlot();
              return;
            }
            onStart();
            metrics.recordAttemptStart(attempt > 0);
            const started = now();
            const controller = new AbortController();
            let finished = false;
            let graceTimer: ReturnType<typeof setTimeout> | undefined;
            let settled = false;
            const finish = (result: AttemptResult<T>) => {
              if (finished) return;
              finished = true;
              clearTimeout(timer);
              callerSignal?.removeEventListener('abort', onAbort);
              const latency = now() - started;
              if (result.state === 'failed') metrics.recordAttemptEnd(latency, result.kind, result.message);
              else metrics.recordAttemptEnd(latency);
              if (onAttempt) {
                try {
                  onAttempt(
                    result.state === 'failed'
                      ? {
                          id,
                          attempt,
                          ok: false,
                          kind: result.kind,
                          message: result.message,
                          latencyMs: latency,
                          ...(result.retryAfterMs !== undefined ? { retryAfterMs: result.retryAfterMs } : {}),
                        }
                      : { id, attempt, ok: true, latencyMs: latency },
                  );
                } catch {
                  // observers never break a call
                }
              }
              resolve(result);
              if (settled) releaseSlot();
              else graceTimer = setTimeout(releaseSlot, abortGraceMs);
            };
            // Settle first, then abort: the outcome no longer depends on how the task reacts.
            const timer = setTimeout(() => {
              finish({
                state: 'failed',
                kind: 'timeout',
                message: `${label} timed out after ${timeoutMs} ms.`,
              });
              controller.abort(new Error(`${label} timed out after ${timeoutMs} ms`));
            }, timeoutMs);
            const onAbort = () => {
              finish({
                state: 'failed',
                kind: 'other',
                message: 'cancelled by the caller.',
                cancelled: true,
              });
              controller.abort(callerSignal?.reason);
            };
            callerSignal?.addEventListener('abort', onAbort, { once: true });
            const onSettled = () => {
              settled = true;
              if (finished) {
                clearTimeout(graceTimer);
                releaseSlot();
              }
            };
            Promise.resolve()
              .then(() => task({ signal: controller.signal, attempt, id }))
              .then(
                (value) => {
                  onSettled();
                  finish({ state: 'ok', value });
                },
                (error: unknown) => {
                  onSettled();
                  const c = classifyRemoteError(error);
                  finish({
                    state: 'failed',
                    kind: c.kind,
                    message: scrub(c.message),
                    ...(c.retryAfterMs !== undefined ? { retryAfterMs: c.retryAfterMs } : {}),
                  });
                },
              );
          }),
      ).catch(() => resolve({ state: 'failed', kind: 'other', message: 'the concurrency limiter failed.' }));
    });
  }

  async function run<T>(
    task: (attempt: RemoteAttempt) => Promise<T>,
    runOptions: { readonly signal?: AbortSignal } = {},
  ): Promise<RemoteOutcome<T>> {
    const signal = runOptions.signal;
    const callId = ++callSeq;
    const started = now();
    let callStarted = false;
    const onStart = () => {
      if (!callStarted) {
        callStarted = true;
        metrics.recordCall();
      }
    };
    let last: { kind: RemoteFailureKind; message: string } | undefined;
    const fail = (kind: RemoteFailureKind, message: string, attempts: number): RemoteFailure => {
      const latencyMs = now() - started;
      metrics.recordCallEnd(latencyMs, kind);
      const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
      return { ok: false, failure: kind, message: `${message} (${tries})`, attempts, latencyMs };
    };
    for (let attempt = 0; ; attempt++) {
      const result = await attemptOnce(task, callId, attempt, signal, onStart);
      if (result.state === 'not-started') {
        if (last === undefined) {
          metrics.recordCancelled();
          return {
            ok: false,
            failure: 'other',
            message: 'cancelled by the caller before it started.',
            attempts: 0,
            latencyMs: now() - started,
          };
        }
        return fail(last.kind, `${last.message} Cancelled before retrying.`, attempt);
      }
      if (result.state === 'ok') {
        const latencyMs = now() - started;
        metrics.recordCallEnd(latencyMs);
        return { ok: true, value: result.value, attempts: attempt + 1, latencyMs };
      }
      last = { kind: result.kind, message: result.message };
      if (result.cancelled || signal?.aborted) return fail(result.kind, result.message, attempt + 1);
      if (!policy.retryOn.includes(result.kind) || attempt >= policy.maxRetries) {
        return fail(result.kind, result.message, attempt + 1);
      }
      if (
        policy.respectRetryAfter &&
        result.retryAfterMs !== undefined &&
        result.retryAfterMs > policy.maxRetryAfterMs
      ) {
        return fail(
          result.kind,
          `${result.message} The server asked to wait ${Math.round(result.retryAfterMs)} ms, more than maxRetryAfterMs (${policy.maxRetryAfterMs} ms).`,
          attempt + 1,
        );
      }
      const delay = backoffDelay(policy, attempt + 1, random(), result.retryAfterMs);
      if (!(await sleep(delay, signal))) {
        return fail(result.kind, `${result.message} Cancelled before retrying.`, attempt + 1);
      }
    }
  }

  return { run, metrics, policy, concurrency, timeoutMs };
}
