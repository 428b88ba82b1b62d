import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { type Emotion, emotionDistance, InvalidArgumentError, ProviderError } from '@emofeedback/core';
import type { RemoteAttemptEvent, RemoteFailureKind } from '@emofeedback/reward';
import {
  LOOPBACK_FAULTS,
  type LoopbackFault,
  type LoopbackReply,
  type LoopbackRequest,
  type LoopbackServer,
  type LoopbackServerOptions,
  startLoopbackLvlmServer,
} from '@emofeedback/reward/testing';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Candidate,
  type CritiqueInput,
  contentWords,
  createLvlmCritic,
  createOpenAICompatibleCritic,
  formatEmotion,
  LvlmCriticError,
  type LvlmCriticOptions,
  missingWords,
  runFeedbackLoop,
  selectCriticImages,
} from '../src/index.js';
import { TOY_LEXICON, ToyEvaluator, ToyGenerator } from './toy-world.js';

// ---------------------------------------------------------------------------------------------
// Fixtures

const servers: LoopbackServer[] = [];
async function serve(options: LoopbackServerOptions = {}): Promise<LoopbackServer> {
  const server = await startLoopbackLvlmServer({ delayMs: 2_000, retryAfter: '0', ...options });
  servers.push(server);
  return server;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const FAST_RETRY = { maxRetries: 2, initialDelayMs: 2, maxDelayMs: 10, jitter: 0 } as const;

function criticFor(server: LoopbackServer, options: Partial<Omit<LvlmCriticOptions, 'model'>> = {}) {
  const provider = createOpenAICompatible({
    name: 'loopback',
    baseURL: server.baseURL,
    supportsStructuredOutputs: true,
  });
  return createLvlmCritic({
    model: provider.chatModel('loopback-vl'),
    timeoutMs: 300,
    retry: FAST_RETRY,
    ...options,
  });
}

/** One round of the toy world, as the loop would hand it to the critic. */
async function roundInput(prompt: string, target: Emotion, seed = 1, perRound = 8): Promise<CritiqueInput> {
  const seeds = Array.from({ length: perRound }, (_, i) => seed * 1000 + i);
  const images = await new ToyGenerator().generate({ prompts: seeds.map(() => prompt), seeds });
  const evaluations = await new ToyEvaluator().evaluate(images);
  const candidates: Candidate[] = images.map((image, index) => {
    const evaluation = evaluations[index]!;
    return {
      round: 0,
      index,
      prompt,
      seed: seeds[index]!,
      image,
      evaluation,
      distance: evaluation.ok ? emotionDistance(evaluation, target) : Number.POSITIVE_INFINITY,
    };
  });
  return { target, userPrompt: prompt, currentPrompt: prompt, round: 0, candidates, history: [] };
}

// ---------------------------------------------------------------------------------------------
// A scripted "LVLM" on the loopback server: it reads the target, the prompts and every shown
// image's reading from the request text and rewrites the prompt with toy descriptors toward the
// target, so its answer depends on what the request carried.

const NUM = '([+-]\\d+\\.\\d+)';
const TARGET_RE = new RegExp(`Target emotion: valence ${NUM}, arousal ${NUM}`);
const READING_RE = new RegExp(`^Image \\d+ .*: reading: valence ${NUM}, arousal ${NUM}`);

interface ParsedCritiqueRequest {
  readonly target: Emotion;
  readonly userPrompt: string;
  readonly currentPrompt: string;
  readonly round: number;
  readonly readings: Emotion[];
  readonly reminder?: string;
}

function parseCritiqueRequest(request: LoopbackRequest): ParsedCritiqueRequest | undefined {
  const all = request.texts.join('\n');
  const t = TARGET_RE.exec(all);
  if (!t) return undefined;
  const user = /User prompt: (".*")/.exec(all);
  const current = /Prompt of round (\d+): (".*")/.exec(all);
  const readings = request.texts.flatMap((text) => {
    const m = READING_RE.exec(text);
    return m ? [{ valence: Number(m[1]), arousal: Number(m[2]) }] : [];
  });
  const reminder = request.texts.find((text) => text.includes('dropped words'));
  return {
    target: { valence: Number(t[1]), arousal: Number(t[2]) },
    userPrompt: JSON.parse(user![1]!) as string,
    currentPrompt: JSON.parse(current![2]!) as string,
    round: Number(current![1]) - 1,
    readings,
    ...(reminder ? { reminder } : {}),
  };
}

/** Picks at most one toy descriptor per group so that `base + effects` lands nearest the target. */
function toyRewrite(parsed: ParsedCritiqueRequest): { phrases: string[]; predicted: Emotion } {
  const n = parsed.readings.length;
  const mean = {
    valence: parsed.readings.reduce((s, r) => s + r.valence, 0) / n,
    arousal: parsed.readings.reduce((s, r) => s + r.arousal, 0) / n,
  };
  const used = TOY_LEXICON.filter((d) => parsed.currentPrompt.split(',').some((p) => p.trim() === d.phrase));
  const base = {
    valence: mean.valence - used.reduce((s, d) => s + d.valence, 0),
    arousal: mean.arousal - used.reduce((s, d) => s + d.arousal, 0),
  };
  const groups = [...new Set(TOY_LEXICON.map((d) => d.group))];
  let best = { phrases: [] as string[], predicted: base };
  const search = (g: number, phrases: string[], at: Emotion) => {
    if (g === groups.length) {
      if (emotionDistance(at, parsed.target) < emotionDistance(best.predicted, parsed.target)) {
        best = { phrases, predicted: at };
      }
      return;
    }
    search(g + 1, phrases, at);
    for (const d of TOY_LEXICON.filter((x) => x.group === groups[g])) {
      search(g + 1, [...phrases, d.phrase], {
        valence: at.valence + d.valence,
        arousal: at.arousal + d.arousal,
      });
    }
  };
  search(0, [], base);
  return best;
}

function toyCritique(parsed: ParsedCritiqueRequest): LoopbackReply {
  const { phrases, predicted } = toyRewrite(parsed);
  return {
    json: {
      analysis: `Target ${formatEmotion(parsed.target)}; ${parsed.readings.length} readings seen; expected after the rewrite ${formatEmotion(predicted)}.`,
      suggestions: phrases.map((p) => `add "${p}"`),
      refinedPrompt: [parsed.userPrompt, ...phrases].join(', '),
      done: false,
    },
  };
}

const toyReply = (request: LoopbackRequest): LoopbackReply | undefined => {
  const parsed = parseCritiqueRequest(request);
  return parsed ? toyCritique(parsed) : undefined;
};

// ---------------------------------------------------------------------------------------------

describe('LVLM critic: clean replies', () => {
  it('sends the target, the readings and the images, and uses the parsed critique', async () => {
    const seen: LoopbackRequest[] = [];
    const server = await serve({
      reply: (request) => {
        seen.push(request);
        return toyReply(request);
      },
    });
    // A generous timeout: the first request of the file also warms up the HTTP client.
    const critic = criticFor(server, { timeoutMs: 5_000 });
    const target = { valence: 2.5, arousal: 1 };
    const input = await roundInput('a cat on a meadow', target);
    const critique = await critic.critique(input);

    expect(seen).toHaveLength(1);
    const request = seen[0]!;
    // Six images (best 4, worst 2), each enlarged from 4×4 to 256×256.
    expect(request.images).toHaveLength(6);
    for (const image of request.images) expect([image.width, image.height]).toEqual([256, 256]);
    const all = request.texts.join('\n');
    expect(all).toContain('Target emotion: valence +2.50, arousal +1.00');
    expect(all).toContain('User prompt: "a cat on a meadow"');
    expect(all).toMatch(/keep the user's subject: it must contain the words cat, meadow/);
    expect(request.texts[0]).toMatch(/expert prompt engineer/); // system message
    expect(request.responseFormat?.type).toBe('json_schema');
    expect(request.responseFormat?.json_schema?.name).toBe('prompt_critique');

    // Each caption's reading belongs to the image after it: the toy generator paints valence
    // into red and arousal into green, 8-bit in the PNG.
    const parsed = parseCritiqueRequest(request)!;
    expect(parsed.readings).toHaveLength(6);
    parsed.readings.forEach((reading, i) => {
      const rgba = request.images[i]!.rgba;
      expect((rgba[0]! / 255) * 12 - 6).toBeCloseTo(reading.valence, 1);
      expect((rgba[1]! / 255) * 12 - 6).toBeCloseTo(reading.arousal, 1);
    });
    // Best first (ascending distance), then the two farthest.
    const sorted = [...input.candidates].sort((a, b) => a.distance - b.distance);
    const shown = [...sorted.slice(0, 4), sorted[7]!, sorted[6]!];
    const captions = request.texts.filter((t) => t.startsWith('Image ')).join('\n');
    expect(captions.match(/distance (\d+\.\d+)\./g)).toEqual(
      shown.map((c) => `distance ${c.distance.toFixed(2)}.`),
    );

    // The answer depends on what arrived.
    expect(critique.analysis).toContain('Target valence +2.50, arousal +1.00; 6 readings seen');
    expect(critique.refinedPrompt.startsWith('a cat on a meadow, ')).toBe(true);
    expect(critique.refinedPrompt).toContain('sunny');
    expect(critique.suggestions.length).toBeGreaterThan(0);
    expect(critique.done).toBeUndefined();

    const m = critic.metrics();
    expect(m).toMatchObject({ calls: 1, attempts: 1, retries: 0, successes: 1, failed: 0, critiques: 1 });
    expect(m.subjectRestored).toBe(0);
    expect(critic.id).toBe('lvlm-critic:loopback.chat:loopback-vl');
  });

  it('honours the image selection, the upscale size and replaced templates', async () => {
    const seen: LoopbackRequest[] = [];
    const server = await serve({
      reply: (request) => {
        seen.push(request);
        return {
          json: { analysis: 'ok', suggestions: 'one edit', refinedPrompt: '"a cat on a meadow, sunny"' },
        };
      },
    });
    const critic = criticFor(server, {
      images: { best: 2, worst: 1, minSide: 64 },
      system: 'CUSTOM SYSTEM',
      message: (ctx) => `CUSTOM MESSAGE for ${ctx.input.userPrompt} with ${ctx.images.length} images`,
    });
    const critique = await critic.critique(await roundInput('a cat on a meadow', { valence: 2, arousal: 0 }));
    const request = seen[0]!;
    expect(request.images.map((i) => i.width)).toEqual([64, 64, 64]);
    expect(request.texts[0]).toBe('CUSTOM SYSTEM');
    expect(request.texts[1]).toBe('CUSTOM MESSAGE for a cat on a meadow with 3 images');
    expect(request.texts.filter((t) => t.startsWith('Image '))).toHaveLength(3);
    expect(critique).toEqual({
      analysis: 'ok',
      suggestions: ['one edit'],
      refinedPrompt: 'a cat on a meadow, sunny',
    });

    const parts = criticFor(server, {
      system: null,
      message: () => [
        { type: 'image', image: 0 },
        { type: 'text', text: 'only the best one' },
      ],
    });
    await parts.critique(await roundInput('a cat on a meadow', { valence: 2, arousal: 0 }));
    expect(seen[1]!.images).toHaveLength(1);
    expect(seen[1]!.texts).toEqual(['only the best one']);

    const broken = criticFor(server, { message: () => [{ type: 'image', image: 9 }] });
    await expect(
      broken.critique(await roundInput('a cat on a meadow', { valence: 2, arousal: 0 })),
    ).rejects.toThrow(InvalidArgumentError);
  });

  it('picks best and worst images without repeats, and unscored ones when nothing was scored', async () => {
    const input = await roundInput('a cat on a meadow', { valence: 1, arousal: 1 }, 2, 5);
    const picked = selectCriticImages(input.candidates, { best: 4, worst: 2 });
    expect(picked.map((p) => p.role)).toEqual(['best', 'best', 'best', 'best', 'worst']);
    expect(new Set(picked.map((p) => p.candidate.index)).size).toBe(5);
    expect(picked.map((p) => p.rank)).toEqual([1, 2, 3, 4, 5]);
    const failed = input.candidates.map((c) => ({
      ...c,
      evaluation: { ok: false as const, failure: 'timeout' as const, message: 'x' },
      distance: Number.POSITIVE_INFINITY,
    }));
    const unscored = selectCriticImages(failed, { best: 2, worst: 1 });
    expect(unscored.map((p) => p.role)).toEqual(['unscored', 'unscored', 'unscored']);
    expect(selectCriticImages(input.candidates, { best: 0, worst: 0 })).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

/** The failure kind the critic reports for each loopback fault (rating-shaped JSON is a schema miss for a critic). */
const CRITIC_FAULT_KIND: Record<LoopbackFault, RemoteFailureKind> = {
  delay: 'timeout',
  'rate-limit': 'rate_limited',
  'server-error': 'server_error',
  unavailable: 'server_error',
  'truncated-json': 'invalid_json',
  schema: 'schema',
  refusal: 'refusal',
  'out-of-range': 'schema',
  reset: 'network',
  'malformed-body': 'invalid_json',
  unauthorized: 'other',
};
const RETRIED_FAULTS = LOOPBACK_FAULTS.filter((f) => f !== 'unauthorized');

describe('LVLM critic: faults', () => {
  it('retries every transient fault kind and then uses the clean answer', async () => {
    const input = await roundInput('a spider in a forest', { valence: -2, arousal: 2.5 });
    for (const fault of RETRIED_FAULTS) {
      let first = true;
      // First attempt faulted, the retry clean.
      const local = await serve({
        reply: toyReply,
        faults: () => {
          const f = first ? fault : null;
          first = false;
          return f;
        },
      });
      const c2 = criticFor(local);
      const critique = await c2.critique(input);
      expect(critique.refinedPrompt.startsWith('a spider in a forest')).toBe(true);
      const m = c2.metrics();
      expect({ fault, retries: m.retries, successes: m.successes, failed: m.failed }).toEqual({
        fault,
        retries: 1,
        successes: 1,
        failed: 0,
      });
      expect(m.attemptFailures[CRITIC_FAULT_KIND[fault]]).toBe(1);
      expect(local.stats().injected[fault]).toBe(1);
      await local.close();
    }
  });

  it('ends persistent faults in a typed ProviderError of the right kind', async () => {
    const input = await roundInput('a spider in a forest', { valence: -2, arousal: 2.5 });
    for (const fault of LOOPBACK_FAULTS) {
      const server = await serve({ reply: toyReply, faults: () => fault });
      const critic = criticFor(server);
      const error = await critic.critique(input).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, fault).toBeInstanceOf(LvlmCriticError);
      expect(error).toBeInstanceOf(ProviderError);
      const e = error as LvlmCriticError;
      const kind = CRITIC_FAULT_KIND[fault];
      expect({ fault, kind: e.kind, code: e.code }).toEqual({ fault, kind, code: 'PROVIDER' });
      const attempts = fault === 'unauthorized' ? 1 : FAST_RETRY.maxRetries + 1;
      expect(e.attempts).toBe(attempts);
      expect(e.message).toContain(`(${kind})`);
      expect(server.stats().requests).toBe(attempts);
      const m = critic.metrics();
      expect(m).toMatchObject({ calls: 1, attempts, failed: 1, failedCritiques: 1, critiques: 1 });
      expect(m.failures[kind]).toBe(1);
      expect(m.attemptFailures[kind]).toBe(attempts);
      await server.close();
    }
  });

  it('reports unusable critiques: out-of-range prompts, missing fields, refusals', async () => {
    const input = await roundInput('a cat on a meadow', { valence: 2, arousal: 1 });
    const cases: [LoopbackReply, RemoteFailureKind][] = [
      [
        { json: { analysis: 'a', suggestions: [], refinedPrompt: `a cat, ${'sunny, '.repeat(100)}` } },
        'out_of_range',
      ],
      [{ json: { analysis: 'a', suggestions: [] } }, 'schema'],
      [{ json: { analysis: 'a', suggestions: [], refinedPrompt: '   ' } }, 'schema'],
      [{ refusal: 'I cannot help with that.' }, 'refusal'],
      [{ content: "I'm sorry, but I can't critique these images." }, 'refusal'],
      [{ content: 'Sure! {"analysis": "a", ' }, 'invalid_json'],
    ];
    for (const [reply, kind] of cases) {
      const server = await serve({ reply: () => reply });
      const critic = criticFor(server, { retry: { ...FAST_RETRY, maxRetries: 1 } });
      const error = (await critic.critique(input).catch((e: unknown) => e)) as LvlmCriticError;
      expect(error).toBeInstanceOf(LvlmCriticError);
      expect({ reply, kind: error.kind }).toEqual({ reply, kind });
      expect(critic.metrics().attemptFailures[kind]).toBe(2);
      await server.close();
    }
  });

  it("waits as long as the server's Retry-After asks", async () => {
    let n = 0;
    const server = await serve({
      reply: (request) =>
        n++ === 0
          ? { status: 429, body: { error: { message: 'slow down' } }, headers: { 'retry-after-ms': '200' } }
          : toyReply(request),
    });
    const critic = criticFor(server);
    const started = performance.now();
    await critic.critique(await roundInput('a cat on a meadow', { valence: 2, arousal: 1 }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
    expect(critic.metrics()).toMatchObject({ retries: 1, successes: 1 });
    expect(critic.metrics().attemptFailures.rate_limited).toBe(1);
  });

  it('rejects with kind other when the caller aborts', async () => {
    const server = await serve({ reply: toyReply });
    const critic = criticFor(server);
    const controller = new AbortController();
    controller.abort();
    const error = (await critic
      .critique(await roundInput('a cat on a meadow', { valence: 2, arousal: 1 }), {
        signal: controller.signal,
      })
      .catch((e: unknown) => e)) as LvlmCriticError;
    expect(error).toBeInstanceOf(LvlmCriticError);
    expect(error.kind).toBe('other');
    expect(server.stats().requests).toBe(0);
  });

  it('never lets the API key into an error, a metric or an attempt event', async () => {
    const key = 'loopback-secret-key-7f3a9c21d4';
    const input = await roundInput('a cat on a meadow', { valence: 2, arousal: 1 });
    const events: RemoteAttemptEvent[] = [];
    const messages: string[] = [];
    // Error bodies repeat the request headers, Authorization included.
    for (const fault of ['server-error', 'rate-limit', 'unauthorized'] as const) {
      const server = await serve({ reply: toyReply, apiKey: key, echoHeaders: true, faults: () => fault });
      const critic = createOpenAICompatibleCritic({
        baseURL: server.baseURL,
        model: 'loopback-vl',
        apiKey: key,
        timeoutMs: 300,
        retry: FAST_RETRY,
        onAttempt: (e) => events.push(e),
      });
      const error = (await critic.critique(input).catch((e: unknown) => e)) as LvlmCriticError;
      expect(error.kind).toBe(CRITIC_FAULT_KIND[fault]);
      // The server did see the key.
      expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${key}`);
      messages.push(error.message, String(error.stack), ...critic.metrics().recentErrors);
      await server.close();
    }
    // A wrong key, from the environment.
    const server = await serve({ reply: toyReply, apiKey: key, echoHeaders: true });
    process.env.EMOFEEDBACK_TEST_CRITIC_KEY = 'wrong-secret-key-0d9e8f7a6b';
    const critic = createOpenAICompatibleCritic({
      baseURL: server.baseURL,
      model: 'loopback-vl',
      apiKeyEnv: 'EMOFEEDBACK_TEST_CRITIC_KEY',
      timeoutMs: 300,
      retry: FAST_RETRY,
      onAttempt: (e) => events.push(e),
    });
    const error = (await critic.critique(input).catch((e: unknown) => e)) as LvlmCriticError;
    delete process.env.EMOFEEDBACK_TEST_CRITIC_KEY;
    expect(error.kind).toBe('other');
    expect(server.stats().authRejected).toBe(1);
    messages.push(error.message, ...critic.metrics().recentErrors);
    messages.push(...events.map((e) => e.message ?? ''));
    expect(events.some((e) => /Bearer|authorization/i.test(e.message ?? ''))).toBe(true);
    for (const text of messages) {
      expect(text).not.toContain(key);
      expect(text).not.toContain('wrong-secret-key-0d9e8f7a6b');
    }
    // ...and the right key works.
    const good = createOpenAICompatibleCritic({ baseURL: server.baseURL, model: 'loopback-vl', apiKey: key });
    expect((await good.critique(input)).refinedPrompt).toMatch(/^a cat on a meadow/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('LVLM critic: subject guard', () => {
  it('finds content words and tolerates plurals', () => {
    expect(contentWords('A photo of two cats on the old stone bridge at night')).toEqual([
      'photo',
      'two',
      'cats',
      'old',
      'stone',
      'bridge',
      'night',
    ]);
    expect(contentWords("the dog's ball and the dog")).toEqual(['dog', 'ball']);
    expect(missingWords(['cats', 'bridge', 'city'], 'a cat under a bridge in the cities')).toEqual([]);
    expect(missingWords(['cat', 'meadow'], 'sunny, vivid colours')).toEqual(['cat', 'meadow']);
  });

  const dropper = (fixOnReask: boolean) => {
    const seen: LoopbackRequest[] = [];
    const reply = (request: LoopbackRequest): LoopbackReply => {
      seen.push(request);
      const parsed = parseCritiqueRequest(request)!;
      if (parsed.reminder && fixOnReask) return toyCritique(parsed);
      return {
        json: {
          analysis: 'More light.',
          suggestions: ['add sun'],
          refinedPrompt: 'a sunny scene, vivid colours',
        },
      };
    };
    return { seen, reply };
  };

  it('re-asks once when the refined prompt drops the subject', async () => {
    const { seen, reply } = dropper(true);
    const server = await serve({ reply });
    const critic = criticFor(server);
    const critique = await critic.critique(
      await roundInput('a cat on a meadow', { valence: 2.5, arousal: 1 }),
    );
    expect(seen).toHaveLength(2);
    const reask = seen[1]!.body.messages as { role: string; content: unknown }[];
    expect(reask.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(String(reask[3]!.content)).toMatch(/dropped words of the user's subject: cat, meadow/);
    expect(String(reask[2]!.content)).toContain('a sunny scene');
    expect(critique.refinedPrompt.startsWith('a cat on a meadow')).toBe(true);
    expect(critic.metrics()).toMatchObject({
      calls: 2,
      subjectDropped: 1,
      subjectReasks: 1,
      subjectRestored: 1,
      subjectPrepended: 0,
    });
  });

  it('falls back to prepending the user prompt when the re-ask drops it again', async () => {
    const { seen, reply } = dropper(false);
    const server = await serve({ reply });
    const critic = criticFor(server);
    const critique = await critic.critique(
      await roundInput('a cat on a meadow', { valence: 2.5, arousal: 1 }),
    );
    expect(seen).toHaveLength(2);
    expect(critique.refinedPrompt).toBe('a cat on a meadow, a sunny scene, vivid colours');
    expect(critic.metrics()).toMatchObject({ subjectReasks: 1, subjectRestored: 1, subjectPrepended: 1 });
  });

  it("prepends when the re-ask fails, prepends at once with 'prepend', and leaves it with 'off'", async () => {
    const input = await roundInput('a cat on a meadow', { valence: 2.5, arousal: 1 });
    const { reply } = dropper(true);
    const failing = await serve({
      reply,
      faults: (r) => (r.texts.some((t) => t.includes('dropped words')) ? 'server-error' : null),
    });
    const c1 = criticFor(failing);
    expect((await c1.critique(input)).refinedPrompt).toBe('a cat on a meadow, a sunny scene, vivid colours');
    expect(c1.metrics()).toMatchObject({ calls: 2, failed: 1, failedCritiques: 0, subjectPrepended: 1 });

    const d2 = dropper(true);
    const s2 = await serve({ reply: d2.reply });
    const c2 = criticFor(s2, { subjectGuard: 'prepend' });
    expect((await c2.critique(input)).refinedPrompt).toBe('a cat on a meadow, a sunny scene, vivid colours');
    expect(d2.seen).toHaveLength(1);
    expect(c2.metrics()).toMatchObject({ subjectReasks: 0, subjectRestored: 1, subjectPrepended: 1 });

    const d3 = dropper(true);
    const s3 = await serve({ reply: d3.reply });
    const c3 = criticFor(s3, { subjectGuard: 'off' });
    expect((await c3.critique(input)).refinedPrompt).toBe('a sunny scene, vivid colours');
    expect(c3.metrics()).toMatchObject({ subjectDropped: 0, subjectRestored: 0 });
    c3.resetMetrics();
    expect(c3.metrics()).toMatchObject({ calls: 0, critiques: 0 });
  });
});

describe('LVLM critic: options', () => {
  it('rejects bad options with typed errors', async () => {
    const server = await serve();
    expect(() => createLvlmCritic({} as LvlmCriticOptions)).toThrow(InvalidArgumentError);
    expect(() => criticFor(server, { images: { best: -1 } })).toThrow(/images.best/);
    expect(() => criticFor(server, { images: { minSide: -5 } })).toThrow(/minSide/);
    expect(() => criticFor(server, { maxPromptChars: 0 })).toThrow(/maxPromptChars/);
    expect(() => criticFor(server, { subjectGuard: 'maybe' as 'off' })).toThrow(/subjectGuard/);
    expect(() => criticFor(server, { timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(() => createOpenAICompatibleCritic({ baseURL: 'not a url', model: 'm' })).toThrow(/baseURL/);
    expect(() => createOpenAICompatibleCritic({ baseURL: 'ftp://x/v1', model: 'm' })).toThrow(/baseURL/);
    expect(() => createOpenAICompatibleCritic({ baseURL: server.baseURL, model: ' ' })).toThrow(/model/);
    expect(() =>
      createOpenAICompatibleCritic({ baseURL: server.baseURL, model: 'm', apiKey: 'k', apiKeyEnv: 'K' }),
    ).toThrow(/not both/);
    expect(() =>
      createOpenAICompatibleCritic({
        baseURL: server.baseURL,
        model: 'm',
        apiKeyEnv: 'EMOFEEDBACK_UNSET_VAR',
      }),
    ).toThrow(/EMOFEEDBACK_UNSET_VAR/);
    const critic = criticFor(server);
    const input = await roundInput('a cat', { valence: 0, arousal: 0 });
    await expect(critic.critique({ ...input, userPrompt: ' ' })).rejects.toThrow(InvalidArgumentError);
    await expect(critic.critique({ ...input, target: { valence: Number.NaN, arousal: 0 } })).rejects.toThrow(
      /target/,
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('LVLM critic in the feedback loop, with faults', () => {
  it('finishes every run, records failed critiques and accounts for every fault', async () => {
    const prompts = ['a cat on a meadow', 'a spider in a forest', 'a lighthouse by the sea'];
    const targets: Emotion[] = [
      { valence: 2.5, arousal: 1 },
      { valence: -2, arousal: 2.5 },
      { valence: 1.5, arousal: -2 },
    ];
    const pairs = prompts.flatMap((prompt) => targets.map((target) => ({ prompt, target })));
    // Critiques that fail on every attempt: (prompt, target, round) → fault.
    const persistent: { prompt: string; target: Emotion; round: number; fault: LoopbackFault }[] = [
      { prompt: prompts[2]!, target: targets[0]!, round: 0, fault: 'server-error' },
      { prompt: prompts[1]!, target: targets[1]!, round: 1, fault: 'refusal' },
      { prompt: prompts[0]!, target: targets[2]!, round: 0, fault: 'delay' },
      { prompt: prompts[2]!, target: targets[2]!, round: 1, fault: 'unauthorized' },
    ];
    // Other calls: the first attempt of most calls gets the next transient fault in turn, and
    // every fourth call also faults its second attempt.
    const transient = RETRIED_FAULTS;
    const firstFault = new Map<string, LoopbackFault>();
    let nextTransient = 0;
    const faults = (request: LoopbackRequest): LoopbackFault | null => {
      const [call, attempt] = String(request.headers['x-request-id']).split('.').map(Number) as [
        number,
        number,
      ];
      const parsed = parseCritiqueRequest(request)!;
      const planned = persistent.find(
        (p) =>
          p.prompt === parsed.userPrompt &&
          emotionDistance(p.target, parsed.target) < 1e-9 &&
          p.round === parsed.round,
      );
      if (planned) return planned.fault;
      if (attempt === 0 && call % 6 !== 5) {
        const fault = transient[nextTransient++ % transient.length]!;
        firstFault.set(`${call}`, fault);
        return fault;
      }
      if (attempt === 1 && call % 4 === 0) return 'rate-limit';
      return null;
    };
    const server = await serve({ reply: toyReply, faults, delayMs: 2_000, retryAfter: '0' });
    const events: RemoteAttemptEvent[] = [];
    const critic = criticFor(server, { attemptIdHeader: 'x-request-id', onAttempt: (e) => events.push(e) });

    const started = performance.now();
    const traces = [];
    for (const pair of pairs) {
      traces.push(
        await runFeedbackLoop({
          ...pair,
          generator: new ToyGenerator(),
          evaluator: new ToyEvaluator(),
          critic,
          rounds: 3,
          imagesPerRound: 8,
          seed: 7,
        }),
      );
    }
    const wallMs = performance.now() - started;

    // Every run finishes all rounds; failed critiques are recorded and keep the prompt.
    let critiqueErrors = 0;
    traces.forEach((trace, i) => {
      const pair = pairs[i]!;
      expect(trace.stopReason).toBe('max_rounds');
      expect(trace.rounds).toHaveLength(3);
      expect(trace.calls.critique).toBe(2);
      for (const record of trace.rounds.slice(0, 2)) {
        const planned = persistent.find(
          (p) => p.prompt === pair.prompt && p.target === pair.target && p.round === record.round,
        );
        const next = trace.rounds[record.round + 1]!;
        if (planned) {
          critiqueErrors++;
          expect(record.critique).toBeUndefined();
          expect(record.critiqueError).toContain(`(${CRITIC_FAULT_KIND[planned.fault]})`);
          expect(next.prompt).toBe(record.prompt);
        } else {
          expect(record.critiqueError).toBeUndefined();
          expect(next.prompt).toBe(record.critique!.refinedPrompt);
          expect(next.prompt.startsWith(pair.prompt)).toBe(true);
        }
      }
    });
    expect(critiqueErrors).toBe(persistent.length);
    // Every run had at least one usable critique, and its rewrite beat the first round.
    for (const trace of traces) expect(trace.best!.distance).toBeLessThan(trace.rounds[0]!.best!.distance);

    // The critic's metrics report every fault the server injected, by kind.
    const m = critic.metrics();
    const stats = server.stats();
    expect(m.critiques).toBe(pairs.length * 2);
    expect(m.calls).toBe(pairs.length * 2);
    expect(m.failedCritiques).toBe(persistent.length);
    expect(m.failed).toBe(persistent.length);
    expect(m.attempts).toBe(stats.requests);
    expect(m.attempts).toBe(m.calls + m.retries);
    expect(m.inFlight).toBe(0);
    const expected: Record<string, number> = {};
    for (const [fault, n] of Object.entries(stats.injected)) {
      const kind = CRITIC_FAULT_KIND[fault as LoopbackFault];
      expected[kind] = (expected[kind] ?? 0) + n;
    }
    // A clean answer slower than the 300 ms timeout on a loaded machine also counts as a timeout.
    expected.timeout = (expected.timeout ?? 0) + stats.cleanClosedByClient;
    for (const [kind, n] of Object.entries(m.attemptFailures))
      expect({ kind, n }).toEqual({ kind, n: expected[kind] ?? 0 });
    const totalAttemptFailures = Object.values(m.attemptFailures).reduce((a, b) => a + b, 0);
    expect(totalAttemptFailures).toBe(m.retries + m.failed);
    for (const fault of LOOPBACK_FAULTS) expect(stats.injected[fault], fault).toBeGreaterThan(0);

    // At least 20% of critic calls were faulted.
    const faultedCalls = new Set(events.filter((e) => !e.ok).map((e) => e.id.split('.')[0]));
    expect(faultedCalls.size / m.calls).toBeGreaterThanOrEqual(0.2);
    expect(stats.injectedTotal / m.attempts).toBeGreaterThanOrEqual(0.2);
    expect(wallMs).toBeLessThan(20_000);

    if (process.env.LVLM_CRITIC_REPORT) {
      console.info(
        JSON.stringify({
          runs: traces.length,
          criticCalls: m.calls,
          attempts: m.attempts,
          retries: m.retries,
          faultedCalls: faultedCalls.size,
          injected: stats.injected,
          injectedTotal: stats.injectedTotal,
          attemptFailures: m.attemptFailures,
          failedCritiques: m.failedCritiques,
          cleanClosedByClient: stats.cleanClosedByClient,
          wallMs: Math.round(wallMs),
          bestDistances: traces.map((t) => Number(t.best!.distance.toFixed(2))),
          firstRoundBest: traces.map((t) => Number(t.rounds[0]!.best!.distance.toFixed(2))),
        }),
      );
    }
  });
});
