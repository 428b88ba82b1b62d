export { contentHash, LruCache } from './cache.js';
export {
  type ClassifiedRemoteError,
  classifyRemoteError,
  parseRetryAfter,
  REMOTE_FAILURE_KINDS,
  type RemoteFailureKind,
  RemoteReplyError,
} from './failures.js';
export { type LatencySummary, RemoteMetrics, type RemoteMetricsSnapshot } from './metrics.js';
export { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy, resolveRetryPolicy } from './retry.js';
export {
  createRemoteRunner,
  type RemoteAttempt,
  type RemoteAttemptEvent,
  type RemoteFailure,
  type RemoteOutcome,
  type RemoteRunner,
  type RemoteRunnerOptions,
  type RemoteSuccess,
} from './runner.js';
export { createSecretScrubber, type SecretScrubber, type SecretScrubberOptions } from './scrub.js';
export {
  extractJson,
  generateStructuredReply,
  looksLikeRefusal,
  parseStructuredText,
  type StructuredReply,
  type StructuredReplyOptions,
} from './structured.js';
