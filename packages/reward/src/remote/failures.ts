import { APICallError } from 'ai';
import type { EvaluationFailureKind } from '../evaluator.js';

/**
 * Why one remote call (one attempt, or the whole call after its retries) failed. The same
 * vocabulary as {@link EvaluationFailureKind}, so evaluators and critics report alike:
 * - `timeout`: the per-attempt time limit passed (or the server answered 408).
 * - `rate_limited`: HTTP 429.
 * - `server_error`: HTTP 5xx.
 * - `network`: no HTTP answer (connection refused or reset, socket closed).
 * - `invalid_json`: the reply (or the HTTP body) is not parseable JSON.
 * - `schema`: the reply is JSON but not the requested shape.
 * - `refusal`: the model declined to answer.
 * - `out_of_range`: the reply has the right shape but values outside the allowed range.
 * - `other`: anything else (HTTP 400/401/403/404, cancelled by the caller, unknown errors).
 */
export type RemoteFailureKind = EvaluationFailureKind;

/** Every {@link RemoteFailureKind}, in a fixed order (metrics list them in this order). */
export const REMOTE_FAILURE_KINDS: readonly RemoteFailureKind[] = [
  'timeout',
  'rate_limited',
  'server_error',
  'network',
  'invalid_json',
  'schema',
  'refusal',
  'out_of_range',
  'other',
];

/**
 * Thrown by a remote task when the model answered but the answer is unusable (not JSON, wrong
 * shape, a refusal, out-of-range numbers). The runner counts it under `kind` and retries it
 * when the retry policy says so.
 */
export class RemoteReplyError extends Error {
  /** How the reply failed. */
  readonly kind: RemoteFailureKind;

  constructor(kind: RemoteFailureKind, message: string) {
    super(message);
    this.name = 'RemoteReplyError';
    this.kind = kind;
  }
}

/** What {@link classifyRemoteError} makes of an error. */
export interface ClassifiedRemoteError {
  readonly kind: RemoteFailureKind;
  /** The HTTP status, when there was an HTTP answer. */
  readonly status?: number;
  /** The wait the server asked for (Retry-After / retry-after-ms), in ms. */
  readonly retryAfterMs?: number;
  /** A short description; may still hold secrets: scrub before showing it. */
  readonly message: string;
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ConnectionRefused',
  'ConnectionClosed',
  'FailedToOpenSocket',
]);

/**
 * Reads a `Retry-After` (seconds or an HTTP date) or `retry-after-ms` header into milliseconds.
 * @returns the wait in ms, or `undefined` when absent or unreadable.
 */
export function parseRetryAfter(
  headers: Record<string, string | undefined> | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const lower: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  const ms = lower['retry-after-ms'];
  if (ms !== undefined && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = lower['retry-after'];
  if (after === undefined || after.trim() === '') return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(after);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function errorChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current != null && chain.length < 8 && !chain.includes(current)) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

function networkCode(error: unknown): string | undefined {
  for (const e of errorChain(error)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

/**
 * Sorts an error thrown by a remote call (AI SDK `APICallError`, fetch failures, aborts,
 * {@link RemoteReplyError}) into a {@link RemoteFailureKind}. Timeouts of the runner's own
 * clock are recognised by the runner itself, not here.
 */
export function classifyRemoteError(error: unknown): ClassifiedRemoteError {
  if (error instanceof RemoteReplyError) return { kind: error.kind, message: error.message };
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const message = messageOf(error);
    if (status === undefined) {
      const code = networkCode(error);
      return { kind: 'network', message: code ? `${message} (${code})` : message };
    }
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(error.responseHeaders);
      return {
        kind: 'rate_limited',
        status,
        message: `HTTP 429: ${message}`,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    }
    if (status === 408) return { kind: 'timeout', status, message: `HTTP 408: ${message}` };
    if (status >= 500) {
      const retryAfterMs = parseRetryAfter(error.responseHeaders);
      return {
        kind: 'server_error',
        status,
        message: `HTTP ${status}: ${message}`,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    }
    if (status >= 200 && status < 300) {
      // A 2xx answer whose body the SDK could not read: treat as an unparseable reply.
      return { kind: 'invalid_json', status, message: `HTTP ${status} with an unreadable body: ${message}` };
    }
    return { kind: 'other', status, message: `HTTP ${status}: ${message}` };
  }
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'AI_JSONParseError') return { kind: 'invalid_json', message: messageOf(error) };
  if (name === 'AI_TypeValidationError') return { kind: 'schema', message: messageOf(error) };
  const code = networkCode(error);
  if (code) return { kind: 'network', message: `${messageOf(error)} (${code})` };
  if (error instanceof TypeError && /fetch failed|failed to fetch|network/i.test(error.message)) {
    return { kind: 'network', message: error.message };
  }
  return { kind: 'other', message: messageOf(error) };
}
