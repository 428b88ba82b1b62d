import {
  type EmotionScale,
  type ImageBatch,
  InvalidArgumentError,
  type RgbImage,
  tensorToImages,
  tf,
  validateImageBatch,
} from '@emofeedback/core';
import type { generateText, JSONSchema7, LanguageModel } from 'ai';
import { z } from 'zod';
import type { EmotionEvaluator, EvaluateOptions, Evaluation } from '../evaluator.js';
import { contentHash, LruCache } from '../remote/cache.js';
import { RemoteMetrics, type RemoteMetricsSnapshot } from '../remote/metrics.js';
import type { RetryPolicy } from '../remote/retry.js';
import { createRemoteRunner, type RemoteAttemptEvent } from '../remote/runner.js';
import { createSecretScrubber } from '../remote/scrub.js';
import { generateStructuredReply } from '../remote/structured.js';
import { encodeImagePng, type LvlmImageOptions, upscaleFactor } from './png.js';
import {
  DEFAULT_LVLM_PROMPT,
  DEFAULT_LVLM_SYSTEM,
  type LvlmPrompt,
  type LvlmRatingScale,
  lvlmScale,
  renderLvlmPrompt,
} from './prompt.js';

type ProviderOptions = NonNullable<Parameters<typeof generateText>[0]['providerOptions']>;

/** Options of {@link createLvlmEvaluator}. */
export interface LvlmEvaluatorOptions {
  /**
   * The vision-language model: any Vercel AI SDK `LanguageModel` that accepts images, e.g.
   * `openai('gpt-4o-mini')`, `anthropic('claude-…')`, `google('gemini-…')`, an Ollama model, or
   * `createOpenAICompatible({ baseURL, … })('qwen2.5-vl')` for vLLM, llama.cpp, LM Studio, SGLang.
   */
  readonly model: LanguageModel;
  /** Identifier written into reports. Default `lvlm:<provider>:<model>/<scale>@<prompt hash>`. */
  readonly id?: string;
  /** The question sent with each image; see {@link LvlmPrompt}. Default {@link DEFAULT_LVLM_PROMPT}. */
  readonly prompt?: LvlmPrompt;
  /** System message; `null` sends none. Default {@link DEFAULT_LVLM_SYSTEM}. */
  readonly system?: string | null;
  /** The scale the model answers on: a named scale or a custom one. Default `sam9` (1-9). */
  readonly scale?: EmotionScale | LvlmRatingScale;
  /**
   * Ask for JSON through the provider's structured output (`response_format: json_schema` on
   * OpenAI-style APIs). Turn off for servers that reject it; the prompt still asks for JSON and
   * fenced or prose-wrapped JSON is still read. Default true.
   */
  readonly structuredOutput?: boolean;
  /** Image preparation (small images are enlarged to 256 px by default). */
  readonly image?: LvlmImageOptions;
  /** Requests in flight at once. Default 4. */
  readonly concurrency?: number;
  /** Time limit per request, in ms. Default 60,000. */
  readonly timeoutMs?: number;
  /** Retry policy; by default 3 retries of every failure kind but `other`, from 500 ms. */
  readonly retry?: Partial<RetryPolicy>;
  /** Cache of scores keyed by image hash, prompt and model; `false` turns it off. Default 10,000 entries. */
  readonly cache?: false | { readonly maxEntries?: number };
  /** Strings to keep out of every message (API keys). Header values are added automatically. */
  readonly secrets?: readonly (string | undefined)[];
  /** Sampling temperature; `null` leaves the provider default. Default 0. */
  readonly temperature?: number | null;
  /** Reply length limit. Default 300 tokens. */
  readonly maxOutputTokens?: number;
  /** Passed through to the AI SDK (provider-specific settings). */
  readonly providerOptions?: ProviderOptions;
  /** Extra HTTP headers for every request. */
  readonly headers?: Record<string, string>;
  /** Counters to record into (share one between evaluators); a fresh one by default. */
  readonly metrics?: RemoteMetrics;
  /** Uniform draws in [0, 1) for back-off jitter; default `Math.random`. */
  readonly random?: () => number;
  /** Called when each request ends, with its id, outcome and latency (messages scrubbed). */
  readonly onAttempt?: (event: RemoteAttemptEvent) => void;
  /**
   * Send each request's attempt id (`<call>.<attempt>`, as in `onAttempt`) in this HTTP header,
   * e.g. `x-request-id`, to match client events with server logs. Off by default.
   */
  readonly attemptIdHeader?: string;
}

/** An {@link EmotionEvaluator} backed by a vision-language model, with its counters. */
export interface LvlmEvaluator extends EmotionEvaluator {
  /** A copy of the counters: calls, retries, cache hits, failures by kind, latency. */
  metrics(): RemoteMetricsSnapshot;
  /** Zeroes the counters. */
  resetMetrics(): void;
  /** Forgets cached scores. */
  clearCache(): void;
  /** The rendered prompt sent with every image. */
  readonly prompt: string;
  /** The answer scale. */
  readonly scale: LvlmRatingScale;
  /** `provider:model`, as used in cache keys. */
  readonly modelId: string;
}

/** The JSON the model is asked for, as validated: numbers (numeric strings accepted). */
const numeric = z.union([
  z.number(),
  z
    .string()
    .trim()
    .regex(/^[-+]?\d+(?:\.\d+)?$/, 'expected a number')
    .transform(Number),
]);
const ratingSchema = z.object({
  valence: numeric,
  arousal: numeric,
  rationale: z.string().nullish(),
});
type Rating = z.infer<typeof ratingSchema>;

function ratingJsonSchema(scale: LvlmRatingScale): JSONSchema7 {
  const axis = (what: string): JSONSchema7 => ({
    type: 'number',
    minimum: scale.min,
    maximum: scale.max,
    description: `${what} from ${scale.min} to ${scale.max}`,
  });
  return {
    type: 'object',
    properties: {
      valence: axis('Valence (unpleasant to pleasant)'),
      arousal: axis('Arousal (calm to excited)'),
      rationale: { type: 'string', description: 'One short sentence explaining the rating' },
    },
    required: ['valence', 'arousal', 'rationale'],
    additionalProperties: false,
  };
}

function describeModel(model: LanguageModel): string {
  if (typeof model === 'string') return model;
  return `${model.provider}:${model.modelId}`;
}

function checkPositiveInt(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new InvalidArgumentError(name, `expected a positive integer, got ${String(value)}.`);
  }
}

/**
 * Creates an evaluator that asks a vision-language model to rate each image's valence and
 * arousal. Each image goes as a base64 PNG with the prompt; the JSON answer is validated with zod
 * and mapped from the answer scale (1-9 SAM by default) to [-3, 3].
 *
 * Requests run with bounded concurrency, a per-request timeout and retries with exponential
 * back-off and jitter (honouring `Retry-After`) on timeouts, 429, 5xx, network errors and unusable
 * replies. An image whose calls all fail is reported as `{ ok: false, failure, message }`, never
 * scored 0 and never thrown; `evaluate` rejects only on bad input. Scores are cached by image
 * hash + prompt + model. No credential appears in messages or metrics.
 *
 * @throws InvalidArgumentError / UnknownScaleError on bad options.
 */
export function createLvlmEvaluator(options: LvlmEvaluatorOptions): LvlmEvaluator {
  if (options === null || typeof options !== 'object' || options.model == null) {
    throw new InvalidArgumentError('options.model', 'a Vercel AI SDK LanguageModel is required.');
  }
  checkPositiveInt('maxOutputTokens', options.maxOutputTokens);
  const scale = typeof options.scale === 'object' ? options.scale : lvlmScale(options.scale ?? 'sam9');
  if (!(Number.isFinite(scale.min) && Number.isFinite(scale.max) && scale.min < scale.max)) {
    throw new InvalidArgumentError('scale', `min must be below max, got [${scale.min}, ${scale.max}].`);
  }
  const prompt = renderLvlmPrompt(options.prompt ?? DEFAULT_LVLM_PROMPT, scale);
  const system = options.system === null ? undefined : (options.system ?? DEFAULT_LVLM_SYSTEM);
  const structuredOutput = options.structuredOutput ?? true;
  const imageOptions = options.image ?? {};
  upscaleFactor(1, 1, imageOptions); // validates the image options early
  const modelId = describeModel(options.model);
  const temperature = options.temperature === null ? undefined : (options.temperature ?? 0);
  const maxOutputTokens = options.maxOutputTokens ?? 300;
  const secrets = [
    ...(options.secrets ?? []),
    ...Object.values(options.headers ?? {}).filter((v) => typeof v === 'string' && v.length >= 8),
  ];
  const scrub = createSecretScrubber(secrets);
  const cleanRationale = createSecretScrubber(secrets, { maxLength: 2_000 });
  const metrics = options.metrics ?? new RemoteMetrics();
  const runner = createRemoteRunner({
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.onAttempt ? { onAttempt: options.onAttempt } : {}),
    metrics,
    scrub,
    label: 'LVLM call',
  });
  const cache =
    options.cache === false
      ? undefined
      : new LruCache<string, Evaluation>(options.cache?.maxEntries ?? 10_000);
  const settingsKey = contentHash(
    JSON.stringify([
      modelId,
      system ?? null,
      prompt,
      scale.name,
      scale.min,
      scale.max,
      structuredOutput,
      imageOptions.minSide ?? 256,
      imageOptions.maxSide ?? 2048,
      temperature ?? null,
    ]),
  );
  const id = options.id ?? `lvlm:${modelId}/${scale.name}@${settingsKey.slice(0, 8)}`;
  const jsonSchema = ratingJsonSchema(scale);
  const headers = options.headers;
  const attemptIdHeader = options.attemptIdHeader;

  const check = (r: Rating): string | undefined => {
    const bad = (['valence', 'arousal'] as const).filter(
      (axis) => !(Number.isFinite(r[axis]) && r[axis] >= scale.min && r[axis] <= scale.max),
    );
    if (bad.length === 0) return undefined;
    return `${bad.map((axis) => `${axis} ${r[axis]}`).join(' and ')} outside [${scale.min}, ${scale.max}].`;
  };

  async function evaluateOne(image: RgbImage, signal: AbortSignal | undefined): Promise<Evaluation> {
    const key = cache
      ? `${settingsKey}:${image.width}x${image.height}:${contentHash(image.data)}`
      : undefined;
    if (key !== undefined) {
      const hit = cache?.get(key);
      if (hit) {
        metrics.recordCacheHit();
        return hit;
      }
    }
    let png: Uint8Array | undefined;
    const outcome = await runner.run(
      async ({ signal: attemptSignal, id: attemptId }) => {
        png ??= encodeImagePng(image, imageOptions);
        const reply = await generateStructuredReply({
          model: options.model,
          ...(system !== undefined ? { system } : {}),
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: prompt },
                { type: 'image', image: png, mediaType: 'image/png' },
              ],
            },
          ],
          schema: ratingSchema,
          jsonSchema,
          name: 'emotion_rating',
          description: 'Valence and arousal of the image',
          structuredOutput,
          check,
          signal: attemptSignal,
          ...(temperature !== undefined ? { temperature } : {}),
          maxOutputTokens,
          ...(options.providerOptions ? { providerOptions: options.providerOptions } : {}),
          ...(headers || attemptIdHeader
            ? { headers: { ...headers, ...(attemptIdHeader ? { [attemptIdHeader]: attemptId } : {}) } }
            : {}),
        });
        return reply.value;
      },
      signal ? { signal } : {},
    );
    if (!outcome.ok) return { ok: false, failure: outcome.failure, message: outcome.message };
    const rationale = outcome.value.rationale ? cleanRationale(outcome.value.rationale) : undefined;
    const result: Evaluation = {
      ok: true,
      valence: scale.toCanonical(outcome.value.valence),
      arousal: scale.toCanonical(outcome.value.arousal),
      ...(rationale ? { rationale } : {}),
    };
    if (key !== undefined) cache?.set(key, result);
    return result;
  }

  return {
    id,
    prompt,
    scale,
    modelId,
    async evaluate(images: ImageBatch, evaluateOptions: EvaluateOptions = {}): Promise<Evaluation[]> {
      validateImageBatch(images, 'images');
      const list = images instanceof tf.Tensor ? await tensorToImages(images) : images;
      return Promise.all(list.map((image) => evaluateOne(image, evaluateOptions.signal)));
    },
    metrics: () => metrics.snapshot(),
    resetMetrics: () => metrics.reset(),
    clearCache: () => cache?.clear(),
  };
}
