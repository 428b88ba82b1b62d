import { InvalidArgumentError } from '@emofeedback/core';
import { REMOTE_FAILURE_KINDS, type RemoteFailureKind } from './failures.js';

/**
 * When and how long to wait before trying a failed remote call again.
 *
 * The wait before retry `n` (1-based) is `min(maxDelayMs, initialDelayMs · factor^(n-1))`, of
 * which a random fraction up to `jitter` is taken off (`jitter: 1` is "full jitter"). When the
 * server sends `Retry-After` (429, 503) the wait is at least that long; when it asks for more
 * than `maxRetryAfterMs` the call fails at once instead of stalling.
 */
export interface RetryPolicy {
  /** Retries after the first attempt. Default 3. */
  readonly maxRetries: number;
  /** Wait before the first retry, in ms. Default 500. */
  readonly initialDelayMs: number;
  /** Longest wait between attempts, in ms. Default 20,000. */
  readonly maxDelayMs: number;
  /** Growth of the wait per retry. Default 2. */
  readonly factor: number;
  /** Fraction of each wait drawn at random, in [0, 1]. Default 0.5. */
  readonly jitter: number;
  /**
   * Failure kinds that are retried. Default: every kind but `other` (bad requests, rejected
   * credentials and caller cancellations are not worth repeating).
   */
  readonly retryOn: readonly RemoteFailureKind[];
  /** Wait at least as long as the server's `Retry-After`. Default true. */
  readonly respectRetryAfter: boolean;
  /** Longest `Retry-After` honoured, in ms; a longer one ends the call. Default 60,000. */
  readonly maxRetryAfterMs: number;
}

/** The defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxRetries: 3,
  initialDelayMs: 500,
  maxDelayMs: 20_000,
  factor: 2,
  jitter: 0.5,
  retryOn: REMOTE_FAILURE_KINDS.filter((k) => k !== 'other'),
  respectRetryAfter: true,
  maxRetryAfterMs: 60_000,
});

function nonNegative(name: string, value: number, integer = false): void {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (integer && !Number.isInteger(value))
  ) {
    throw new InvalidArgumentError(
      `retry.${name}`,
      `expected a ${integer ? 'non-negative integer' : 'finite number ≥ 0'}, got ${String(value)}.`,
    );
  }
}

/**
 * Fills a partial policy with the defaults and checks it.
 * @throws InvalidArgumentError naming the bad field.
 */
export function resolveRetryPolicy(policy: Partial<RetryPolicy> = {}): RetryPolicy {
  const resolved: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...policy };
  nonNegative('maxRetries', resolved.maxRetries, true);
  nonNegative('initialDelayMs', resolved.initialDelayMs);
  nonNegative('maxDelayMs', resolved.maxDelayMs);
  nonNegative('maxRetryAfterMs', resolved.maxRetryAfterMs);
  if (!(resolved.factor >= 1) || !Number.isFinite(resolved.factor)) {
    throw new InvalidArgumentError('retry.factor', `expected a finite number ≥ 1, got ${resolved.factor}.`);
  }
  if (!(resolved.jitter >= 0 && resolved.jitter <= 1)) {
    throw new InvalidArgumentError('retry.jitter', `expected a number in [0, 1], got ${resolved.jitter}.`);
  }
  for (const kind of resolved.retryOn) {
    if (!REMOTE_FAILURE_KINDS.includes(kind)) {
      throw new InvalidArgumentError(
        'retry.retryOn',
        `unknown failure kind '${String(kind)}'; known: ${REMOTE_FAILURE_KINDS.join(', ')}.`,
      );
    }
  }
  return Object.freeze({ ...resolved, retryOn: Object.freeze([...resolved.retryOn]) });
}

/**
 * The wait before retry number `retry` (1-based), in ms.
 * @param random a uniform draw in [0, 1) for the jitter.
 * @param retryAfterMs the server's `Retry-After`, if any.
 */
export function backoffDelay(
  policy: RetryPolicy,
  retry: number,
  random: number,
  retryAfterMs?: number,
): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** Math.max(0, retry - 1));
  const jittered = base * (1 - policy.jitter * random);
  if (policy.respectRetryAfter && retryAfterMs !== undefined) return Math.max(jittered, retryAfterMs);
  return jittered;
}
