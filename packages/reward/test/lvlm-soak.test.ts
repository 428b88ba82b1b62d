import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { type RgbImage, SeededRandom } from '@emofeedback/core';
import { afterAll, expect, it } from 'vitest';
import { createLvlmEvaluator } from '../src/lvlm/index.js';
import {
  REMOTE_FAILURE_KINDS,
  type RemoteAttemptEvent,
  type RemoteFailureKind,
} from '../src/remote/index.js';
import {
  expectedLoopbackScore,
  LOOPBACK_FAULT_FAILURE,
  LOOPBACK_FAULTS,
  type LoopbackServer,
  startLoopbackLvlmServer,
} from './support/loopback.js';

const CALLS = 1_000;
const TIMEOUT_MS = 300;
const CONCURRENCY = 16;

let server: LoopbackServer | undefined;
afterAll(async () => {
  await server?.close();
});

const zero = () =>
  Object.fromEntries(REMOTE_FAILURE_KINDS.map((k) => [k, 0])) as Record<RemoteFailureKind, number>;

it(`${CALLS} calls against a server injecting ≥ 20% faults: every fault accounted for, none hangs`, async () => {
  server = await startLoopbackLvlmServer({
    // Every fault kind but 401, drawn for 30% of requests in arrival order.
    faults: { rate: 0.3, seed: 2024, kinds: LOOPBACK_FAULTS.filter((k) => k !== 'unauthorized') },
    delayMs: 2_000,
    retryAfter: '0',
    recordBodies: false,
  });
  const events: RemoteAttemptEvent[] = [];
  const provider = createOpenAICompatible({
    name: 'loopback',
    baseURL: server.baseURL,
    supportsStructuredOutputs: true,
  });
  const evaluator = createLvlmEvaluator({
    model: provider.chatModel('loopback-vl'),
    concurrency: CONCURRENCY,
    timeoutMs: TIMEOUT_MS,
    retry: { maxRetries: 2, initialDelayMs: 2, maxDelayMs: 20, jitter: 1 },
    image: { minSide: 0 },
    cache: false,
    onAttempt: (event) => events.push(event),
    attemptIdHeader: 'x-request-id',
  });
  const rng = new SeededRandom(7);
  const images: RgbImage[] = Array.from({ length: CALLS }, () => ({
    width: 8,
    height: 8,
    data: rng.uniformArray(8 * 8 * 3),
  }));

  // Warm up (first requests load and compile code paths and would stall the first timers), then
  // start the count from zero on both sides.
  await evaluator.evaluate(
    images.slice(0, 2 * CONCURRENCY).map((img) => ({ ...img, data: img.data.map((v) => 1 - v) })),
  );
  evaluator.resetMetrics();
  server.reset();
  events.length = 0;

  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const started = performance.now();
  const results = await evaluator.evaluate(images);
  const wallMs = performance.now() - started;
  lag.disable();
  const maxLoopLagMs = lag.max / 1e6;
  await new Promise((r) => setTimeout(r, 50)); // let the server see the last aborted sockets close
  const m = evaluator.metrics();
  const s = server.stats();

  // Match every client attempt with the server's record of it (same x-request-id).
  const byId = new Map(server.requests.map((r) => [String(r.headers['x-request-id']), r]));
  let lateAnswers = 0; // answers the client's clock gave up on before it read them
  let unsent = 0; // attempts whose clock ran out before the server even saw the request
  const injectedByKind = zero();
  const seenAsTimeout = zero();
  const mismatches: string[] = [];
  for (const e of events) {
    const record = byId.get(e.id);
    if (!record) {
      // Only a client-side timeout can stop a request from reaching the server.
      if (e.kind !== 'timeout') mismatches.push(`${e.id}: no server record, client saw ${e.kind ?? 'ok'}`);
      unsent++;
      continue;
    }
    const expected = record.fault ? LOOPBACK_FAULT_FAILURE[record.fault] : undefined;
    if (expected) injectedByKind[expected]++;
    if (e.kind === 'timeout' && expected !== 'timeout') {
      // The client's timer fired first (never early): the server's answer is still accounted for.
      if (e.latencyMs < TIMEOUT_MS - 1) mismatches.push(`${e.id}: timeout after only ${e.latencyMs} ms`);
      lateAnswers++;
      if (expected) seenAsTimeout[expected]++;
      continue;
    }
    const seen = e.ok ? undefined : e.kind;
    if (seen !== expected)
      mismatches.push(`${e.id}: server fault ${record.fault ?? 'none'}, client saw ${seen ?? 'ok'}`);
  }
  // Folded into counts: client attempt failures of a kind = server faults of that kind, less those
  // the client timed out on first; client timeouts = injected delays + late answers + unsent.
  const reconciled = zero();
  for (const k of REMOTE_FAILURE_KINDS) reconciled[k] = injectedByKind[k] - seenAsTimeout[k];
  reconciled.timeout = injectedByKind.timeout + lateAnswers + unsent;
  const resultFailures = zero();
  for (const r of results) if (!r.ok) resultFailures[r.failure]++;

  const report = {
    calls: m.calls,
    attempts: m.attempts,
    serverRequests: s.requests,
    faultRate: Number((s.injectedTotal / s.requests).toFixed(3)),
    injected: s.injected,
    injectedTotal: s.injectedTotal,
    retries: m.retries,
    attemptFailures: m.attemptFailures,
    lateAnswers,
    unsent,
    failures: m.failures,
    successes: m.successes,
    wallMs: Math.round(wallMs),
    timeoutMs: TIMEOUT_MS,
    maxAttemptLatencyMs: Math.round(m.attemptLatency.maxMs),
    p95AttemptLatencyMs: Math.round(m.attemptLatency.p95Ms),
    maxCallLatencyMs: Math.round(m.callLatency.maxMs),
    maxEventLoopLagMs: Math.round(maxLoopLagMs),
    serverMaxInFlight: s.maxInFlight,
    clientMaxInFlight: m.maxInFlight,
  };
  console.log(`LVLM soak: ${JSON.stringify(report)}`);

  expect(results).toHaveLength(CALLS);
  expect(s.injectedTotal / s.requests).toBeGreaterThanOrEqual(0.2);
  // Every request the client sent reached the server once, and every call ended.
  expect(m.calls).toBe(CALLS);
  expect(events).toHaveLength(m.attempts);
  expect(m.attempts).toBe(s.requests + unsent);
  expect(byId.size).toBe(s.requests);
  expect(m.attempts).toBe(m.calls + m.retries);
  expect(m.successes + m.failed).toBe(CALLS);
  expect(m.inFlight).toBe(0);
  expect(s.inFlight).toBe(0);
  // Every injected fault shows up as one failed attempt of the matching kind (or a timeout when the
  // client's clock ran out first)…
  expect(mismatches).toEqual([]);
  expect(Object.values(injectedByKind).reduce((a, b) => a + b, 0)).toBe(s.injectedTotal);
  expect(m.attemptFailures).toEqual(reconciled);
  // …which was either retried or ended its call.
  const attemptFailureTotal = Object.values(m.attemptFailures).reduce((a, b) => a + b, 0);
  expect(attemptFailureTotal).toBe(m.retries + m.failed);
  // The failed samples handed back are the ones counted.
  expect(resultFailures).toEqual(m.failures);
  expect(m.failed).toBeGreaterThan(0);
  // Scored samples carry the server's rule, never a silent 0.
  results.forEach((r, i) => {
    if (!r.ok) return;
    const want = expectedLoopbackScore(images[i] as RgbImage);
    expect(r.valence).toBeCloseTo((want.valence - 5) * 0.75, 3);
    expect(r.arousal).toBeCloseTo((want.arousal - 5) * 0.75, 3);
  });
  // No attempt outlived its timeout by more than the event loop was stalled (a timer cannot fire
  // while the loop is blocked; on an idle machine the stall is a few ms).
  expect(m.attemptLatency.maxMs).toBeLessThan(TIMEOUT_MS + maxLoopLagMs + 100);
  expect(s.maxInFlight).toBeLessThanOrEqual(CONCURRENCY);
  expect(wallMs).toBeLessThan(60_000);
});
