import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { APICallError } from 'ai';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  backoffDelay,
  classifyRemoteError,
  contentHash,
  createRemoteRunner,
  createSecretScrubber,
  extractJson,
  generateStructuredReply,
  LruCache,
  parseRetryAfter,
  parseStructuredText,
  RemoteReplyError,
  resolveRetryPolicy,
} from '../src/remote/index.js';
import { type LoopbackServer, startLoopbackLvlmServer } from './support/loopback.js';

describe('secret scrubbing', () => {
  it('removes known secrets, their encodings and credential-shaped text', () => {
    const key = 'my-very-secret-key/with+chars';
    const scrub = createSecretScrubber([key]);
    const text = [
      `raw ${key}`,
      `url ${encodeURIComponent(key)}`,
      'Authorization: Bearer abc.def-ghi_jkl',
      '{"authorization":"Bearer zzzzzzzzzzzz","x-api-key":"k-123456789"}',
      'https://example.test/v1?key=AIzaSyA-1234567890abcdefghijk&x=1',
      'sk-proj-ABCDEFGHIJKLMNOP1234 and sk-ant-api03-abcdefghijklmnop',
      'api_key=hunter2hunter2',
    ].join('\n');
    const out = scrub(text);
    for (const secret of [
      key,
      encodeURIComponent(key),
      'abc.def-ghi_jkl',
      'zzzzzzzzzzzz',
      'k-123456789',
      'AIzaSyA-1234567890abcdefghijk',
      'sk-proj-ABCDEFGHIJKLMNOP1234',
      'sk-ant-api03-abcdefghijklmnop',
      'hunter2hunter2',
    ]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('[redacted]');
    expect(out).toContain('x=1');
  });

  it('shortens long text and inline images', () => {
    const scrub = createSecretScrubber([], { maxLength: 50 });
    expect(scrub('x'.repeat(200))).toHaveLength(50);
    expect(createSecretScrubber()(`data:image/png;base64,${'A'.repeat(500)}`)).toBe(
      'data:image/png;base64,[…]',
    );
  });
});

describe('retry policy', () => {
  it('grows exponentially, caps, jitters and honours Retry-After', () => {
    const p = resolveRetryPolicy({ initialDelayMs: 100, factor: 2, maxDelayMs: 1_000, jitter: 0.5 });
    expect(backoffDelay(p, 1, 0)).toBe(100);
    expect(backoffDelay(p, 3, 0)).toBe(400);
    expect(backoffDelay(p, 10, 0)).toBe(1_000);
    expect(backoffDelay(p, 1, 0.999)).toBeCloseTo(50.05, 1);
    expect(backoffDelay(p, 1, 0, 2_500)).toBe(2_500);
    expect(backoffDelay(resolveRetryPolicy({ respectRetryAfter: false }), 1, 0, 2_500)).toBe(500);
  });

  it('reads Retry-After in seconds, ms and HTTP dates', () => {
    expect(parseRetryAfter({ 'retry-after': '2' })).toBe(2_000);
    expect(parseRetryAfter({ 'Retry-After-Ms': '150' })).toBe(150);
    expect(parseRetryAfter({ 'retry-after': new Date(10_000).toUTCString() }, 4_000)).toBe(6_000);
    expect(parseRetryAfter({ 'retry-after': 'soon' })).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('rejects unknown failure kinds', () => {
    expect(() => resolveRetryPolicy({ retryOn: ['timeout', 'sometimes' as never] })).toThrow(/sometimes/);
  });
});

describe('error classification', () => {
  const apiError = (statusCode: number | undefined, headers?: Record<string, string>) =>
    new APICallError({
      message: 'boom',
      url: 'http://127.0.0.1/v1/chat/completions',
      requestBodyValues: {},
      ...(statusCode !== undefined ? { statusCode } : {}),
      ...(headers ? { responseHeaders: headers } : {}),
    });

  it('sorts HTTP, network and reply errors into failure kinds', () => {
    expect(classifyRemoteError(apiError(429, { 'retry-after': '3' }))).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 3_000,
    });
    expect(classifyRemoteError(apiError(503)).kind).toBe('server_error');
    expect(classifyRemoteError(apiError(408)).kind).toBe('timeout');
    expect(classifyRemoteError(apiError(400)).kind).toBe('other');
    expect(classifyRemoteError(apiError(200)).kind).toBe('invalid_json');
    expect(classifyRemoteError(apiError(undefined)).kind).toBe('network');
    const reset = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    });
    expect(classifyRemoteError(reset).kind).toBe('network');
    expect(classifyRemoteError(new RemoteReplyError('refusal', 'no')).kind).toBe('refusal');
    expect(classifyRemoteError(new Error('???')).kind).toBe('other');
  });
});

describe('structured replies', () => {
  const schema = z.object({ score: z.number() });
  const check = (v: { score: number }) => (v.score > 10 ? `score ${v.score} above 10` : undefined);
  const kindOf = (fn: () => unknown) => {
    try {
      fn();
      return 'ok';
    } catch (e) {
      return (e as RemoteReplyError).kind;
    }
  };

  it('finds JSON in bare, fenced and prose-wrapped replies', () => {
    expect(extractJson('{"a":1}')).toEqual({ value: { a: 1 } });
    expect(extractJson('Sure!\n```json\n{"a":2}\n```')).toEqual({ value: { a: 2 } });
    expect(extractJson('The answer is {"a":3}. Hope it helps')).toEqual({ value: { a: 3 } });
    expect(extractJson('{"a":')).toBeUndefined();
  });

  it('tells invalid JSON, schema misses, refusals and out-of-range values apart', () => {
    expect(kindOf(() => parseStructuredText('{"score": 4}', schema, { check }))).toBe('ok');
    expect(kindOf(() => parseStructuredText('{"score": 4', schema, { check }))).toBe('invalid_json');
    expect(kindOf(() => parseStructuredText('', schema))).toBe('invalid_json');
    expect(kindOf(() => parseStructuredText('{"score": "high"}', schema))).toBe('schema');
    expect(kindOf(() => parseStructuredText("I'm sorry, but I can't rate this.", schema))).toBe('refusal');
    expect(kindOf(() => parseStructuredText('{"score": 4}', schema, { refusal: 'No.' }))).toBe('refusal');
    expect(kindOf(() => parseStructuredText('x', schema, { finishReason: 'content-filter' }))).toBe(
      'refusal',
    );
    expect(kindOf(() => parseStructuredText('{"score": 40}', schema, { check }))).toBe('out_of_range');
  });
});

describe('remote runner', () => {
  it('ends an attempt at its timeout even when the task ignores the abort signal', async () => {
    const runner = createRemoteRunner({
      timeoutMs: 50,
      retry: { maxRetries: 1, initialDelayMs: 1 },
      abortGraceMs: 10,
    });
    const started = performance.now();
    const outcome = await runner.run(() => new Promise<never>(() => {}));
    expect(performance.now() - started).toBeLessThan(500);
    expect(outcome).toMatchObject({ ok: false, failure: 'timeout', attempts: 2 });
    expect(runner.metrics.snapshot()).toMatchObject({ calls: 1, attempts: 2, retries: 1, failed: 1 });
  });

  it('never rejects, and counts thrown values of any shape', async () => {
    const runner = createRemoteRunner({ retry: { maxRetries: 0 } });
    const outcome = await runner.run(() => Promise.reject('a string'));
    expect(outcome).toMatchObject({ ok: false, failure: 'other' });
    const sync = await runner.run(() => {
      throw new RemoteReplyError('schema', 'bad');
    });
    expect(sync).toMatchObject({ ok: false, failure: 'schema' });
  });

  it('retries with back-off and reports each attempt', async () => {
    const events: string[] = [];
    const runner = createRemoteRunner({
      retry: { initialDelayMs: 1, jitter: 0 },
      onAttempt: (e) => events.push(`${e.id}:${e.ok ? 'ok' : e.kind}`),
    });
    let n = 0;
    const outcome = await runner.run(async () => {
      n++;
      if (n < 3) throw new RemoteReplyError('invalid_json', 'half a reply');
      return 42;
    });
    expect(outcome).toMatchObject({ ok: true, value: 42, attempts: 3 });
    expect(events).toEqual(['1.0:invalid_json', '1.1:invalid_json', '1.2:ok']);
  });
});

describe('cache helpers', () => {
  it('evicts the least recently used entry', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.size).toBe(2);
  });

  it('hashes content, not identity', () => {
    const a = new Float32Array([0.1, 0.2, 0.3]);
    expect(contentHash(a)).toBe(contentHash(new Float32Array([0.1, 0.2, 0.3])));
    expect(contentHash(a)).not.toBe(contentHash(new Float32Array([0.1, 0.2, 0.30001])));
    expect(contentHash('abc')).toMatch(/^[0-9a-f]{16}$/);
  });
});

// The same machinery serves an LVLM prompt critic: images → analysis + refined prompt.
describe('reuse for a prompt critic', () => {
  let server: LoopbackServer;
  afterAll(async () => {
    await server?.close();
  });

  it('runs a zod-validated critic call through the runner with the same accounting', async () => {
    server = await startLoopbackLvlmServer({
      faults: ['server-error', 'schema'],
      reply: (req) =>
        req.texts.some((t) => t.includes('Critique'))
          ? {
              json: {
                analysis: `${req.images.length} image(s) look too dark.`,
                refined_prompt: 'a sunny meadow',
              },
            }
          : undefined,
    });
    const model = createOpenAICompatible({
      name: 'loopback',
      baseURL: server.baseURL,
      supportsStructuredOutputs: true,
    }).chatModel('critic');
    const critique = z.object({ analysis: z.string().min(1), refined_prompt: z.string().min(1) });
    const runner = createRemoteRunner({ retry: { initialDelayMs: 1, jitter: 0 }, timeoutMs: 2_000 });
    const png = Uint8Array.from(
      atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYGAAAAAEAAH2FzhVAAAAAElFTkSuQmCC'),
      (c) => c.charCodeAt(0),
    );
    const outcome = await runner.run(({ signal }) =>
      generateStructuredReply({
        model,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Critique these images and refine the prompt.' },
              { type: 'image', image: png, mediaType: 'image/png' },
            ],
          },
        ],
        schema: critique,
        jsonSchema: {
          type: 'object',
          properties: { analysis: { type: 'string' }, refined_prompt: { type: 'string' } },
          required: ['analysis', 'refined_prompt'],
          additionalProperties: false,
        },
        name: 'critique',
        signal,
      }),
    );
    expect(outcome).toMatchObject({
      ok: true,
      attempts: 3,
      value: { value: { analysis: '1 image(s) look too dark.', refined_prompt: 'a sunny meadow' } },
    });
    const m = runner.metrics.snapshot();
    expect(m.attemptFailures).toMatchObject({ server_error: 1, schema: 1 });
    expect(m).toMatchObject({ calls: 1, attempts: 3, retries: 2, successes: 1 });
    expect(
      (server.requests[2]?.body as { response_format: { type: string } } | undefined)?.response_format.type,
    ).toBe('json_schema');
  });
});
