import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import {
  axisToCanonical,
  InvalidArgumentError,
  InvalidImageError,
  type RgbImage,
  tf,
} from '@emofeedback/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../src/evaluator.js';
import {
  createLvlmEvaluator,
  createOpenAICompatibleEvaluator,
  type LvlmEvaluatorOptions,
  lvlmScale,
} from '../src/lvlm/index.js';
import {
  expectedLoopbackScore,
  LOOPBACK_FAULT_FAILURE,
  type LoopbackFault,
  type LoopbackServer,
  type LoopbackServerOptions,
  startLoopbackLvlmServer,
} from './support/loopback.js';

function solid(width: number, height: number, rgb: readonly [number, number, number]): RgbImage {
  const data = new Float32Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set(rgb, p * 3);
  return { width, height, data };
}

const servers: LoopbackServer[] = [];
async function serve(options: LoopbackServerOptions = {}): Promise<LoopbackServer> {
  const server = await startLoopbackLvlmServer(options);
  servers.push(server);
  return server;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const FAST_RETRY = { initialDelayMs: 1, maxDelayMs: 5, jitter: 0 } as const;

function evaluatorFor(
  server: LoopbackServer,
  options: Partial<Omit<LvlmEvaluatorOptions, 'model'>> = {},
  modelName = 'loopback-vl',
) {
  const provider = createOpenAICompatible({
    name: 'loopback',
    baseURL: server.baseURL,
    supportsStructuredOutputs: true,
  });
  return createLvlmEvaluator({
    model: provider.chatModel(modelName),
    timeoutMs: 2_000,
    retry: FAST_RETRY,
    ...options,
  });
}

const expectedCanonical = (image: RgbImage, scale = 'sam9', range: [number, number] = [1, 9]) => {
  const raw = expectedLoopbackScore(image, range);
  return { valence: axisToCanonical(raw.valence, scale), arousal: axisToCanonical(raw.arousal, scale) };
};

describe('LVLM evaluator against the loopback server', () => {
  let server: LoopbackServer;
  beforeAll(async () => {
    server = await serve();
  });

  it('scores clean replies end to end on the canonical scale', async () => {
    server.reset();
    const images = [solid(32, 32, [0, 0, 0]), solid(32, 32, [1, 0, 0]), solid(32, 32, [0.5, 0.5, 0.5])];
    const evaluator = evaluatorFor(server);
    const results = await evaluator.evaluate(images);
    expect(results).toHaveLength(3);
    results.forEach((r, i) => {
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const want = expectedCanonical(images[i] as RgbImage);
      expect(r.valence).toBeCloseTo(want.valence, 3);
      expect(r.arousal).toBeCloseTo(want.arousal, 3);
      expect(r.rationale).toMatch(/Brightness/);
    });
    // Black is (-3, -3); pure red has full saturation and one third brightness.
    expect(results[0]).toMatchObject({ ok: true, valence: -3, arousal: -3 });
    expect(results[1]).toMatchObject({ ok: true, arousal: 3 });

    // What went over the wire: an image_url data URL with a 256 px PNG and a json_schema format.
    const body = server.requests[0]?.body as {
      messages: { role: string; content: unknown }[];
      response_format: { type: string; json_schema: { schema: { properties: Record<string, unknown> } } };
      temperature: number;
    };
    expect(body.response_format.type).toBe('json_schema');
    expect(body.response_format.json_schema.schema.properties.valence).toMatchObject({
      minimum: 1,
      maximum: 9,
    });
    expect(body.temperature).toBe(0);
    const user = body.messages.find((m) => m.role === 'user') as {
      content: { type: string; image_url?: { url: string } }[];
    };
    const image = user.content.find((p) => p.type === 'image_url');
    expect(image?.image_url?.url.startsWith('data:image/png;base64,')).toBe(true);
    expect(body.messages.some((m) => m.role === 'system')).toBe(true);

    const m = evaluator.metrics();
    expect(m).toMatchObject({ calls: 3, attempts: 3, retries: 0, successes: 3, failed: 0, cacheHits: 0 });
    expect(evaluator.id).toMatch(/^lvlm:loopback\.chat:loopback-vl\/sam9@[0-9a-f]{8}$/);
  });

  it('enlarges tiny images to the configured size before encoding', async () => {
    const seen: number[] = [];
    const s = await serve({
      reply: (req) => {
        seen.push(req.images[0]?.width ?? 0);
        return undefined;
      },
    });
    await evaluatorFor(s).evaluate([solid(32, 32, [0.2, 0.4, 0.6])]);
    await evaluatorFor(s, { image: { minSide: 100 } }).evaluate([solid(32, 32, [0.2, 0.4, 0.6])]);
    await evaluatorFor(s, { image: { minSide: 0 } }).evaluate([solid(32, 32, [0.2, 0.4, 0.6])]);
    expect(seen).toEqual([256, 128, 32]);
  });

  it('accepts a tensor batch', async () => {
    const tensor = tf.tensor4d(new Float32Array(2 * 8 * 8 * 3).fill(1), [2, 8, 8, 3]);
    const results = await evaluatorFor(server).evaluate(tensor);
    tensor.dispose();
    expect(results.map((r) => r.ok && r.valence)).toEqual([3, 3]);
  });

  it('reads fenced JSON when structured output is off', async () => {
    server.reset();
    const evaluator = evaluatorFor(server, { structuredOutput: false });
    const [r] = await evaluator.evaluate([solid(16, 16, [1, 1, 1])]);
    expect(r).toMatchObject({ ok: true, valence: 3, arousal: -3 });
    expect(
      (server.requests[0]?.body as { response_format?: unknown } | undefined)?.response_format,
    ).toBeUndefined();
  });

  it('uses a replaceable prompt template and scale', async () => {
    server.reset();
    const evaluator = evaluatorFor(server, {
      scale: 'likert7',
      prompt: 'Rate valence and arousal from {{min}} to {{max}} ({{scale}}, midpoint {{mid}}). JSON only.',
      system: null,
    });
    expect(evaluator.prompt).toBe('Rate valence and arousal from 1 to 7 (likert7, midpoint 4). JSON only.');
    const image = solid(16, 16, [0.25, 0.5, 1]);
    const [r] = await evaluator.evaluate([image]);
    const want = expectedCanonical(image, 'likert7', [1, 7]);
    expect(r).toMatchObject({ ok: true });
    if (r?.ok) {
      expect(r.valence).toBeCloseTo(want.valence, 3);
      expect(r.arousal).toBeCloseTo(want.arousal, 3);
    }
    const body = server.requests[0]?.body as { messages: { role: string; content: unknown }[] };
    expect(body.messages.some((m) => m.role === 'system')).toBe(false);
    expect(JSON.stringify(body.messages)).toContain('from 1 to 7 (likert7, midpoint 4)');

    const fn = evaluatorFor(server, {
      prompt: ({ scale }) => `Scale ${scale.min}..${scale.max}`,
      scale: lvlmScale('sam9'),
    });
    expect(fn.prompt).toBe('Scale 1..9');
    expect(() => evaluatorFor(server, { prompt: 'Rate {{colour}}' })).toThrow(InvalidArgumentError);
    expect(() => evaluatorFor(server, { prompt: 'Rate {{colour}}' })).toThrow(/\{\{colour\}\}/);
  });

  it('serves repeated images from the cache, keyed by image, prompt and model', async () => {
    server.reset();
    const evaluator = evaluatorFor(server);
    const images = [solid(8, 8, [0.1, 0.2, 0.3]), solid(8, 8, [0.9, 0.1, 0.1])];
    const first = await evaluator.evaluate(images);
    const second = await evaluator.evaluate(images);
    expect(second).toEqual(first);
    expect(server.stats().requests).toBe(2);
    expect(evaluator.metrics()).toMatchObject({ calls: 2, cacheHits: 2 });

    // Another model id or prompt is another key.
    await evaluatorFor(server, {}, 'another-model').evaluate(images);
    expect(server.stats().requests).toBe(4);
    evaluator.clearCache();
    await evaluator.evaluate(images);
    expect(server.stats().requests).toBe(6);

    evaluator.resetMetrics();
    expect(evaluator.metrics()).toMatchObject({ calls: 0, cacheHits: 0, attempts: 0 });
    const off = evaluatorFor(server, { cache: false });
    await off.evaluate(images);
    await off.evaluate(images);
    expect(off.metrics().cacheHits).toBe(0);
    expect(off.metrics().calls).toBe(4);
  });

  it('never lets more than `concurrency` requests reach the server at once', async () => {
    const s = await serve({ latencyMs: 40 });
    const evaluator = evaluatorFor(s, { concurrency: 3, cache: false });
    const images = Array.from({ length: 24 }, (_, i) => solid(8, 8, [i / 24, 0.5, 0.5]));
    const results = await evaluator.evaluate(images);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(s.stats().maxInFlight).toBeLessThanOrEqual(3);
    expect(s.stats().maxInFlight).toBeGreaterThanOrEqual(2);
    expect(evaluator.metrics().maxInFlight).toBe(3);
  });
});

describe('fault handling', () => {
  const kinds: LoopbackFault[] = [
    'delay',
    'rate-limit',
    'server-error',
    'unavailable',
    'truncated-json',
    'schema',
    'refusal',
    'out-of-range',
    'reset',
    'malformed-body',
  ];

  it.each(kinds)('%s: one fault is retried and then scored', async (fault) => {
    const s = await serve({ faults: [fault], delayMs: 2_000, retryAfter: '0' });
    const evaluator = evaluatorFor(s, { timeoutMs: 250 });
    const image = solid(8, 8, [0.7, 0.3, 0.3]);
    const [r] = await evaluator.evaluate([image]);
    const want = expectedCanonical(image);
    expect(r).toMatchObject({ ok: true });
    if (r?.ok) expect(r.valence).toBeCloseTo(want.valence, 3);
    const m = evaluator.metrics();
    const kind = LOOPBACK_FAULT_FAILURE[fault];
    expect(m).toMatchObject({ calls: 1, attempts: 2, retries: 1, successes: 1, failed: 0 });
    expect(m.attemptFailures[kind]).toBe(1);
    expect(s.stats().injected[fault]).toBe(1);
  });

  it.each(kinds)('%s: a persistent fault ends as a failed sample of the right kind', async (fault) => {
    const s = await serve({ faults: () => fault, delayMs: 2_000, retryAfter: '0' });
    const evaluator = evaluatorFor(s, { timeoutMs: 250, retry: { ...FAST_RETRY, maxRetries: 2 } });
    const results = await evaluator.evaluate([solid(8, 8, [0.5, 0.5, 0.5]), solid(8, 8, [0.1, 0.9, 0.1])]);
    const kind = LOOPBACK_FAULT_FAILURE[fault];
    for (const r of results) {
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.failure).toBe(kind);
        expect(r.message).toMatch(/3 attempts/);
      }
    }
    const m = evaluator.metrics();
    expect(m).toMatchObject({ calls: 2, attempts: 6, retries: 4, successes: 0, failed: 2 });
    expect(m.failures[kind]).toBe(2);
    expect(m.attemptFailures[kind]).toBe(6);
    expect(s.stats().injected[fault]).toBe(6);
  });

  it('does not retry kinds left out of retryOn', async () => {
    const s = await serve({ faults: () => 'refusal' });
    const evaluator = evaluatorFor(s, { retry: { ...FAST_RETRY, retryOn: ['timeout', 'server_error'] } });
    const [r] = await evaluator.evaluate([solid(8, 8, [0.5, 0.5, 0.5])]);
    expect(r).toMatchObject({ ok: false, failure: 'refusal' });
    expect(evaluator.metrics()).toMatchObject({ attempts: 1, retries: 0 });
  });

  it('reports HTTP 401 as `other` without retrying', async () => {
    const s = await serve({ faults: () => 'unauthorized' });
    const evaluator = evaluatorFor(s);
    const [r] = await evaluator.evaluate([solid(8, 8, [0.5, 0.5, 0.5])]);
    expect(r).toMatchObject({ ok: false, failure: 'other' });
    expect(evaluator.metrics()).toMatchObject({ attempts: 1, retries: 0 });
  });

  it('a timeout never hangs: slow answers end at the time limit', async () => {
    const s = await serve({ faults: () => 'delay', delayMs: 30_000 });
    const evaluator = evaluatorFor(s, { timeoutMs: 150, retry: { ...FAST_RETRY, maxRetries: 1 } });
    const started = performance.now();
    const results = await evaluator.evaluate([solid(8, 8, [0.5, 0.5, 0.5]), solid(8, 8, [0.2, 0.5, 0.5])]);
    const elapsed = performance.now() - started;
    expect(results.every((r) => !r.ok && r.failure === 'timeout')).toBe(true);
    expect(elapsed).toBeLessThan(3_000);
    const m = evaluator.metrics();
    // Each attempt ends at its time limit, give or take a busy event loop.
    expect(m.attemptLatency.maxMs).toBeGreaterThanOrEqual(149);
    expect(m.attemptLatency.maxMs).toBeLessThan(150 + 400);
    expect(m.attemptFailures.timeout).toBe(4);
    // The server saw the client leave.
    await new Promise((r) => setTimeout(r, 50));
    expect(s.stats().inFlight).toBe(0);
  });

  it('waits as long as Retry-After asks, and gives up when it asks too much', async () => {
    const s = await serve({ faults: ['rate-limit'], retryAfter: '1' });
    const evaluator = evaluatorFor(s);
    const started = performance.now();
    const [r] = await evaluator.evaluate([solid(8, 8, [0.5, 0.5, 0.5])]);
    const elapsed = performance.now() - started;
    expect(r?.ok).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(990);

    const s2 = await serve({ faults: () => 'rate-limit', retryAfter: '120' });
    const e2 = evaluatorFor(s2, { retry: { ...FAST_RETRY, maxRetryAfterMs: 5_000 } });
    const t2 = performance.now();
    const [r2] = await e2.evaluate([solid(8, 8, [0.5, 0.5, 0.5])]);
    expect(performance.now() - t2).toBeLessThan(1_000);
    expect(r2).toMatchObject({ ok: false, failure: 'rate_limited' });
    if (r2 && !r2.ok) expect(r2.message).toMatch(/maxRetryAfterMs/);
  });

  it('stops early when the caller aborts, keeping finished results', async () => {
    const s = await serve({
      latencyMs: 30,
      faults: (req) => (req.index >= 2 ? 'delay' : undefined),
      delayMs: 30_000,
    });
    const evaluator = evaluatorFor(s, { concurrency: 2, timeoutMs: 10_000, cache: false });
    const controller = new AbortController();
    const images = Array.from({ length: 8 }, (_, i) => solid(8, 8, [i / 8, 0.2, 0.2]));
    setTimeout(() => controller.abort(), 600);
    const started = performance.now();
    const results = await evaluator.evaluate(images, { signal: controller.signal });
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(results.filter((r) => r.ok)).toHaveLength(2);
    const failed = results.filter((r): r is Extract<Evaluation, { ok: false }> => !r.ok);
    expect(failed).toHaveLength(6);
    expect(failed.every((r) => r.failure === 'other' && /cancelled/.test(r.message))).toBe(true);
    const m = evaluator.metrics();
    expect(m.successes + m.failed).toBe(m.calls);
    expect(m.calls + m.cancelled).toBe(8);
  });
});

describe('secrets', () => {
  const KEY = 'sk-emofeedback-TEST-KEY-0123456789abcdef';

  it('keeps the API key out of failures, errors and metrics even when the server echoes headers', async () => {
    const s = await serve({
      echoHeaders: true,
      faults: (req) =>
        (['server-error', 'unauthorized', 'rate-limit', 'unavailable'] as const)[req.index % 4],
      retryAfter: '0',
    });
    const evaluator = createOpenAICompatibleEvaluator({
      baseURL: s.baseURL,
      model: 'loopback-vl',
      apiKey: KEY,
      retry: { ...FAST_RETRY, maxRetries: 1 },
      timeoutMs: 2_000,
    });
    const results = await evaluator.evaluate([solid(8, 8, [0.5, 0.5, 0.5]), solid(8, 8, [0.1, 0.5, 0.5])]);
    // The key did go over the wire, and the server echoed it back.
    expect(s.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(results.every((r) => !r.ok)).toBe(true);
    const texts: string[] = results.map((r) => (r.ok ? '' : r.message));
    texts.push(JSON.stringify(evaluator.metrics()));
    // Thrown errors: bad input and bad options.
    const throwers: (() => Promise<unknown>)[] = [
      () => evaluator.evaluate([]),
      () => evaluator.evaluate([{ width: 2, height: 2, data: new Float32Array(3) }]),
      async () => createOpenAICompatibleEvaluator({ baseURL: `not a url ${KEY}`, model: 'm', apiKey: KEY }),
      async () =>
        createOpenAICompatibleEvaluator({ baseURL: s.baseURL, model: 'm', apiKey: KEY, apiKeyEnv: 'X' }),
    ];
    for (const thrower of throwers) {
      const error = await Promise.resolve()
        .then(thrower)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(Error);
      texts.push(String(error), (error as Error).stack ?? '', JSON.stringify(error));
    }
    const all = texts.join('\n');
    expect(all).toMatch(/HTTP (500|401|429|503)/);
    expect(all).toContain('[redacted]');
    expect(all).not.toContain(KEY);
    expect(all).not.toContain('0123456789abcdef');
  });

  it('reads the key from an environment variable', async () => {
    const s = await serve({ apiKey: KEY, echoHeaders: true });
    process.env.EMOFEEDBACK_TEST_LVLM_KEY = KEY;
    try {
      const good = createOpenAICompatibleEvaluator({
        baseURL: s.baseURL,
        model: 'loopback-vl',
        apiKeyEnv: 'EMOFEEDBACK_TEST_LVLM_KEY',
      });
      const [r] = await good.evaluate([solid(8, 8, [1, 1, 1])]);
      expect(r).toMatchObject({ ok: true, valence: 3 });
    } finally {
      delete process.env.EMOFEEDBACK_TEST_LVLM_KEY;
    }
    expect(() =>
      createOpenAICompatibleEvaluator({
        baseURL: s.baseURL,
        model: 'm',
        apiKeyEnv: 'EMOFEEDBACK_TEST_LVLM_KEY',
      }),
    ).toThrow(/EMOFEEDBACK_TEST_LVLM_KEY is not set/);
    // A wrong key is a 401 whose echoed headers hold the wrong key: scrubbed too.
    const wrong = 'sk-wrong-key-abcdefghijklmnop';
    const bad = createOpenAICompatibleEvaluator({ baseURL: s.baseURL, model: 'loopback-vl', apiKey: wrong });
    const [r] = await bad.evaluate([solid(8, 8, [1, 1, 1])]);
    expect(r).toMatchObject({ ok: false, failure: 'other' });
    expect(JSON.stringify([r, bad.metrics()])).not.toContain(wrong);
  });
});

describe('bad input', () => {
  let server: LoopbackServer;
  beforeAll(async () => {
    server = await serve();
  });

  it('rejects bad batches with typed errors naming the input, before any request', async () => {
    server.reset();
    const evaluator = evaluatorFor(server);
    await expect(evaluator.evaluate([])).rejects.toThrow(InvalidImageError);
    await expect(evaluator.evaluate([])).rejects.toThrow(/images.*empty/);
    await expect(
      evaluator.evaluate([solid(4, 4, [0, 0, 0]), { width: 4, height: 4, data: new Float32Array(5) }]),
    ).rejects.toThrow(/images\[1\]/);
    const nan = solid(4, 4, [0.5, 0.5, 0.5]);
    nan.data[7] = Number.NaN;
    await expect(evaluator.evaluate([solid(4, 4, [0, 0, 0]), nan])).rejects.toThrow(
      /images\[1\].*not finite/,
    );
    await expect(evaluator.evaluate([solid(4, 4, [0, 0, 0]), solid(5, 5, [0, 0, 0])])).rejects.toThrow(
      /images\[1\]/,
    );
    const wrongRank = tf.zeros([4, 4, 3]) as unknown as tf.Tensor4D;
    await expect(evaluator.evaluate(wrongRank)).rejects.toThrow(/\[N, H, W, 3\]/);
    wrongRank.dispose();
    const inf = tf.tensor4d([0, 0, Number.POSITIVE_INFINITY], [1, 1, 1, 3]);
    await expect(evaluator.evaluate(inf)).rejects.toThrow(/non-finite/);
    inf.dispose();
    expect(server.stats().requests).toBe(0);
  });

  it('rejects bad options with InvalidArgumentError', () => {
    expect(() => evaluatorFor(server, { concurrency: 0 })).toThrow(/concurrency/);
    expect(() => evaluatorFor(server, { timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(() => evaluatorFor(server, { retry: { maxRetries: 1.5 } })).toThrow(/retry\.maxRetries/);
    expect(() => evaluatorFor(server, { retry: { jitter: 2 } })).toThrow(/retry\.jitter/);
    expect(() => evaluatorFor(server, { cache: { maxEntries: 0 } })).toThrow(/cache\.maxEntries/);
    expect(() => evaluatorFor(server, { scale: 'stars5' as never })).toThrow(/stars5/);
    expect(() => createLvlmEvaluator({} as never)).toThrow(InvalidArgumentError);
    expect(() => createOpenAICompatibleEvaluator({ baseURL: 'ftp://x', model: 'm' })).toThrow(/baseURL/);
  });
});
