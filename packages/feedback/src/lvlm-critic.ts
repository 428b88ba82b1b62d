import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { type Emotion, InvalidArgumentError, ProviderError } from '@emofeedback/core';
import {
  createRemoteRunner,
  createSecretScrubber,
  encodeImagePng,
  generateStructuredReply,
  type LvlmImageOptions,
  type RemoteAttemptEvent,
  type RemoteFailureKind,
  RemoteMetrics,
  type RemoteMetricsSnapshot,
  type RetryPolicy,
  type StructuredReply,
  upscaleFactor,
} from '@emofeedback/reward';
import type { generateText, JSONSchema7, LanguageModel, ModelMessage } from 'ai';
import { z } from 'zod';
import type { Candidate, Critique, CritiqueInput, CritiqueOptions, PromptCritic } from './critic.js';
import {
  type CriticImage,
  type CriticMessageBuilder,
  type CriticMessagePart,
  type CriticPromptContext,
  captionImage,
  contentWords,
  DEFAULT_CRITIC_SYSTEM,
  defaultCriticMessage,
  defaultSubjectReminder,
  missingWords,
  type SubjectReminderBuilder,
} from './lvlm-critic-prompt.js';

type ProviderOptions = NonNullable<Parameters<typeof generateText>[0]['providerOptions']>;

/** Which of a round's images the LVLM critic sends, and how they are prepared. */
export interface CriticImageOptions extends LvlmImageOptions {
  /** The images closest to the target that are sent. Default 4. */
  readonly best?: number;
  /** The images farthest from the target that are sent (never one already among the best). Default 2. */
  readonly worst?: number;
}

/**
 * What the critic does when a refined prompt drops content words of the user's prompt:
 * - `reask` (default): asks the model once more, naming the missing words; if the second answer
 *   still lacks them (or fails), falls back to `prepend`.
 * - `prepend`: uses `userPrompt + ', ' + refinedPrompt`.
 * - `off`: keeps the model's prompt as it is.
 */
export type SubjectGuard = 'reask' | 'prepend' | 'off';

/** Options of {@link createLvlmCritic}. */
export interface LvlmCriticOptions {
  /**
   * The vision-language model: any Vercel AI SDK `LanguageModel` that accepts images, e.g.
   * `openai('gpt-4o-mini')`, `anthropic('claude-…')`, or
   * `createOpenAICompatible({ baseURL, … }).chatModel('qwen2.5-vl')` for vLLM, llama.cpp, LM Studio.
   */
  readonly model: LanguageModel;
  /** Identifier written into traces. Default `lvlm-critic:<provider>:<model>`. */
  readonly id?: string;
  /** System message; `null` sends none. Default {@link DEFAULT_CRITIC_SYSTEM}. */
  readonly system?: string | null;
  /** Writes the user message from the round. Default {@link defaultCriticMessage}. */
  readonly message?: CriticMessageBuilder;
  /** Writes the follow-up of a subject re-ask. Default {@link defaultSubjectReminder}. */
  readonly subjectReminder?: SubjectReminderBuilder;
  /** What to do when a refined prompt drops the user's subject. Default `reask`. */
  readonly subjectGuard?: SubjectGuard;
  /** The words of the user's prompt that must survive every rewrite. Default {@link contentWords}. */
  readonly subjectWords?: (userPrompt: string) => readonly string[];
  /** Which images go out and at what size (small images are enlarged to 256 px by default). */
  readonly images?: CriticImageOptions;
  /** Longest refined prompt accepted, in characters; a longer one is an `out_of_range` reply. Default 500. */
  readonly maxPromptChars?: number;
  /**
   * Ask for JSON through the provider's structured output (`response_format: json_schema`).
   * Turn off for servers that reject it; the message still asks for JSON. Default true.
   */
  readonly structuredOutput?: boolean;
  /** Requests in flight at once, over every critique of this critic. Default 2. */
  readonly concurrency?: number;
  /** Time limit per request, in ms. Default 120,000. */
  readonly timeoutMs?: number;
  /** Retry policy; by default 3 retries of every failure kind but `other`, from 500 ms. */
  readonly retry?: Partial<RetryPolicy>;
  /** Strings to keep out of every message (API keys). Header values are added automatically. */
  readonly secrets?: readonly (string | undefined)[];
  /** Sampling temperature; `null` leaves the provider default. Default 0. */
  readonly temperature?: number | null;
  /** Reply length limit. Default 1,000 tokens. */
  readonly maxOutputTokens?: number;
  /** Passed through to the AI SDK (provider-specific settings). */
  readonly providerOptions?: ProviderOptions;
  /** Extra HTTP headers for every request. */
  readonly headers?: Record<string, string>;
  /** Counters to record into (share one with other remote models); a fresh one by default. */
  readonly metrics?: RemoteMetrics;
  /** Uniform draws in [0, 1) for back-off jitter; default `Math.random`. */
  readonly random?: () => number;
  /** Called when each request ends, with its id, outcome and latency (messages scrubbed). */
  readonly onAttempt?: (event: RemoteAttemptEvent) => void;
  /** Send each request's attempt id (`<call>.<attempt>`) in this HTTP header, e.g. `x-request-id`. */
  readonly attemptIdHeader?: string;
}

/**
 * The counters of an {@link LvlmCritic}: the remote-call counters (every request, re-asks
 * included) plus what happened to whole critiques.
 */
export interface LvlmCriticMetricsSnapshot extends RemoteMetricsSnapshot {
  /** `critique()` calls. */
  readonly critiques: number;
  /** Critiques that threw an {@link LvlmCriticError} (the loop keeps its prompt). */
  readonly failedCritiques: number;
  /** Critiques whose first refined prompt dropped content words of the user's prompt. */
  readonly subjectDropped: number;
  /** Re-asks sent because of a dropped subject. */
  readonly subjectReasks: number;
  /** Critiques whose subject was restored, by a re-ask or by prepending the user's prompt. */
  readonly subjectRestored: number;
  /** Of those, the ones restored by prepending the user's prompt. */
  readonly subjectPrepended: number;
}

/** A {@link PromptCritic} backed by a vision-language model, with its counters. */
export interface LvlmCritic extends PromptCritic {
  /**
   * Critiques a round. Rejects with {@link LvlmCriticError} when the model's answer fails after
   * the retries (the feedback loop records it and keeps the prompt), and with
   * `InvalidArgumentError` on a malformed input.
   */
  critique(input: CritiqueInput, options?: CritiqueOptions): Promise<Critique>;
  /** A copy of the counters. */
  metrics(): LvlmCriticMetricsSnapshot;
  /** Zeroes the counters. */
  resetMetrics(): void;
  /** `provider:model`. */
  readonly modelId: string;
}

/**
 * A critique that failed after its retries. `kind` is the failure kind of the last attempt
 * (`timeout`, `rate_limited`, `server_error`, `network`, `invalid_json`, `schema`, `refusal`,
 * `out_of_range`, `other`); the message never carries credentials.
 */
export class LvlmCriticError extends ProviderError {
  declare readonly kind: RemoteFailureKind;
  /** Requests made for the critique, retries included. */
  readonly attempts: number;

  constructor(kind: RemoteFailureKind, message: string, attempts: number) {
    super(kind, message);
    this.attempts = attempts;
  }
}

const critiqueSchema = z.object({
  analysis: z.string(),
  suggestions: z.union([z.array(z.string()), z.string().transform((s) => [s])]),
  refinedPrompt: z.string().trim().min(1, 'refinedPrompt is empty'),
  done: z.boolean().nullish(),
});
type CritiqueReply = z.infer<typeof critiqueSchema>;

const critiqueJsonSchema: JSONSchema7 = {
  type: 'object',
  properties: {
    analysis: {
      type: 'string',
      description: 'What in the images misses the target emotion, in 2-4 sentences',
    },
    suggestions: { type: 'array', items: { type: 'string' }, description: 'Concrete edits to the prompt' },
    refinedPrompt: { type: 'string', description: 'The prompt for the next round' },
    done: { type: 'boolean', description: 'True only if the best image already shows the target emotion' },
  },
  required: ['analysis', 'suggestions', 'refinedPrompt', 'done'],
  additionalProperties: false,
};

function describeModel(model: LanguageModel): string {
  if (typeof model === 'string') return model;
  return `${model.provider}:${model.modelId}`;
}

function nonNegativeInt(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
    throw new InvalidArgumentError(name, `expected an integer ≥ 0, got ${String(value)}.`);
  }
}

function positiveInt(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new InvalidArgumentError(name, `expected a positive integer, got ${String(value)}.`);
  }
}

/**
 * Picks the images a critique shows: the `best` closest to the target and the `worst` farthest
 * among the scored ones (each image at most once), best first. When no image was scored, the
 * first `best + worst` images go out as `unscored`.
 */
export function selectCriticImages(
  candidates: readonly Candidate[],
  options: { readonly best?: number; readonly worst?: number } = {},
): CriticImage[] {
  const nBest = options.best ?? 4;
  const nWorst = options.worst ?? 2;
  const scored = candidates
    .filter((c) => c.evaluation.ok && Number.isFinite(c.distance))
    .sort((a, b) => a.distance - b.distance || a.index - b.index);
  if (scored.length === 0) {
    return candidates.slice(0, nBest + nWorst).map((candidate) => ({ candidate, role: 'unscored', rank: 0 }));
  }
  const best = scored
    .slice(0, nBest)
    .map((candidate, i) => ({ candidate, role: 'best' as const, rank: i + 1 }));
  const rest = scored.length - best.length;
  const take = Math.min(nWorst, rest);
  const worst = scored
    .slice(scored.length - take)
    .reverse()
    .map((candidate) => ({ candidate, role: 'worst' as const, rank: scored.indexOf(candidate) + 1 }));
  return [...best, ...worst];
}

function meanReading(candidates: readonly Candidate[]): Emotion | null {
  const ok = candidates.flatMap((c) => (c.evaluation.ok ? [c.evaluation] : []));
  if (ok.length === 0) return null;
  return {
    valence: ok.reduce((s, e) => s + e.valence, 0) / ok.length,
    arousal: ok.reduce((s, e) => s + e.arousal, 0) / ok.length,
  };
}

function checkInput(input: CritiqueInput): void {
  if (input === null || typeof input !== 'object') {
    throw new InvalidArgumentError('input', 'expected a CritiqueInput.');
  }
  if (typeof input.userPrompt !== 'string' || input.userPrompt.trim() === '') {
    throw new InvalidArgumentError('input.userPrompt', 'the prompt is empty.');
  }
  if (typeof input.currentPrompt !== 'string') {
    throw new InvalidArgumentError('input.currentPrompt', 'expected a string.');
  }
  if (!Array.isArray(input.candidates))
    throw new InvalidArgumentError('input.candidates', 'expected an array.');
  const t = input.target;
  if (!t || !Number.isFinite(t.valence) || !Number.isFinite(t.arousal)) {
    throw new InvalidArgumentError('input.target', 'expected finite valence and arousal.');
  }
}

/**
 * Creates the LVLM prompt critic of EmoFeedback²'s self-promotion textual feedback: each
 * critique sends the round's best and worst images (inline PNGs, enlarged when small) with each
 * image's evaluator reading, the target and the earlier rounds to a vision-language model, which
 * answers `{ analysis, suggestions, refinedPrompt, done }` as JSON (validated with zod).
 *
 * Requests go through the same remote runner as the LVLM evaluator: bounded concurrency, a
 * per-request timeout, retries with exponential back-off and jitter (honouring `Retry-After`) on
 * timeouts, 429, 5xx, network errors and unusable replies, and failure accounting by kind in
 * {@link LvlmCritic.metrics}. A critique that still fails rejects with {@link LvlmCriticError}
 * (a `ProviderError` whose `kind` is the failure kind, credentials scrubbed): `runFeedbackLoop`
 * records it as the round's `critiqueError` and keeps the prompt.
 *
 * The user's subject is guarded: when the refined prompt lacks content words of the user's
 * prompt, the model is asked once more, and if that fails the user's prompt is put in front
 * (see {@link SubjectGuard}).
 *
 * @throws InvalidArgumentError on bad options.
 */
export function createLvlmCritic(options: LvlmCriticOptions): LvlmCritic {
  if (options === null || typeof options !== 'object' || options.model == null) {
    throw new InvalidArgumentError('options.model', 'a Vercel AI SDK LanguageModel is required.');
  }
  positiveInt('maxOutputTokens', options.maxOutputTokens);
  positiveInt('maxPromptChars', options.maxPromptChars);
  const imageOptions = options.images ?? {};
  nonNegativeInt('images.best', imageOptions.best);
  nonNegativeInt('images.worst', imageOptions.worst);
  const imageEncoding: LvlmImageOptions = {
    ...(imageOptions.minSide !== undefined ? { minSide: imageOptions.minSide } : {}),
    ...(imageOptions.maxSide !== undefined ? { maxSide: imageOptions.maxSide } : {}),
  };
  upscaleFactor(1, 1, imageEncoding); // validates the size options early
  const guard = options.subjectGuard ?? 'reask';
  if (!['reask', 'prepend', 'off'].includes(guard)) {
    throw new InvalidArgumentError(
      'subjectGuard',
      `expected 'reask', 'prepend' or 'off', got ${String(guard)}.`,
    );
  }
  const system = options.system === null ? undefined : (options.system ?? DEFAULT_CRITIC_SYSTEM);
  const buildMessage = options.message ?? defaultCriticMessage;
  const buildReminder = options.subjectReminder ?? defaultSubjectReminder;
  const subjectWordsOf = options.subjectWords ?? contentWords;
  const maxPromptChars = options.maxPromptChars ?? 500;
  const structuredOutput = options.structuredOutput ?? true;
  const temperature = options.temperature === null ? undefined : (options.temperature ?? 0);
  const maxOutputTokens = options.maxOutputTokens ?? 1_000;
  const modelId = describeModel(options.model);
  const id = options.id ?? `lvlm-critic:${modelId}`;
  const secrets = [
    ...(options.secrets ?? []),
    ...Object.values(options.headers ?? {}).filter((v) => typeof v === 'string' && v.length >= 8),
  ];
  const scrub = createSecretScrubber(secrets);
  const cleanText = createSecretScrubber(secrets, { maxLength: 4_000 });
  const metrics = options.metrics ?? new RemoteMetrics();
  const runner = createRemoteRunner({
    concurrency: options.concurrency ?? 2,
    timeoutMs: options.timeoutMs ?? 120_000,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.onAttempt ? { onAttempt: options.onAttempt } : {}),
    metrics,
    scrub,
    label: 'LVLM critic call',
  });
  const headers = options.headers;
  const attemptIdHeader = options.attemptIdHeader;
  const counts = {
    critiques: 0,
    failedCritiques: 0,
    subjectDropped: 0,
    subjectReasks: 0,
    subjectRestored: 0,
    subjectPrepended: 0,
  };

  const check = (reply: CritiqueReply): string | undefined =>
    reply.refinedPrompt.length > maxPromptChars
      ? `refinedPrompt has ${reply.refinedPrompt.length} characters, more than ${maxPromptChars}.`
      : undefined;

  function ask(messages: ModelMessage[], signal: AbortSignal | undefined) {
    return runner.run<StructuredReply<CritiqueReply>>(
      ({ signal: attemptSignal, id: attemptId }) =>
        generateStructuredReply({
          model: options.model,
          ...(system !== undefined ? { system } : {}),
          messages,
          schema: critiqueSchema,
          jsonSchema: critiqueJsonSchema,
          name: 'prompt_critique',
          description: 'What misses the target emotion, suggested edits and the refined prompt',
          structuredOutput,
          check,
          signal: attemptSignal,
          ...(temperature !== undefined ? { temperature } : {}),
          maxOutputTokens,
          ...(options.providerOptions ? { providerOptions: options.providerOptions } : {}),
          ...(headers || attemptIdHeader
            ? { headers: { ...headers, ...(attemptIdHeader ? { [attemptIdHeader]: attemptId } : {}) } }
            : {}),
        }),
      signal ? { signal } : {},
    );
  }

  const toCritique = (reply: CritiqueReply): Critique => ({
    analysis: cleanText(reply.analysis.trim()),
    suggestions: reply.suggestions.map((s) => cleanText(s.trim())).filter((s) => s.length > 0),
    refinedPrompt: reply.refinedPrompt
      .replace(/\s+/g, ' ')
      .replace(/^["'“]+|["'”]+$/g, '')
      .trim(),
    ...(reply.done ? { done: true } : {}),
  });

  function userContent(parts: string | readonly CriticMessagePart[], context: CriticPromptContext) {
    const list: readonly CriticMessagePart[] =
      typeof parts === 'string'
        ? [
            { type: 'text', text: parts },
            ...context.images.flatMap((image, i): CriticMessagePart[] => [
              { type: 'text', text: captionImage(image, i, context) },
              { type: 'image', image: i },
            ]),
          ]
        : parts;
    const pngs = new Map<number, Uint8Array>();
    return list.map((part) => {
      if (part.type === 'text') return { type: 'text' as const, text: part.text };
      const image = context.images[part.image];
      if (!image) {
        throw new InvalidArgumentError(
          'message',
          `the message builder referred to image ${part.image}; ${context.images.length} images were picked.`,
        );
      }
      let png = pngs.get(part.image);
      if (!png) {
        png = encodeImagePng(image.candidate.image, imageEncoding);
        pngs.set(part.image, png);
      }
      return { type: 'image' as const, image: png, mediaType: 'image/png' };
    });
  }

  async function critique(input: CritiqueInput, critiqueOptions: CritiqueOptions = {}): Promise<Critique> {
    checkInput(input);
    counts.critiques++;
    const signal = critiqueOptions.signal;
    const images = selectCriticImages(input.candidates, imageOptions);
    const subjectWords = guard === 'off' ? [] : [...subjectWordsOf(input.userPrompt)];
    const context: CriticPromptContext = {
      input,
      images,
      scored: input.candidates.filter((c) => c.evaluation.ok).length,
      total: input.candidates.length,
      meanReading: meanReading(input.candidates),
      subjectWords,
      maxPromptChars,
    };
    const messages: ModelMessage[] = [{ role: 'user', content: userContent(buildMessage(context), context) }];
    const first = await ask(messages, signal);
    if (!first.ok) {
      counts.failedCritiques++;
      const tries = first.attempts === 1 ? '1 attempt' : `${first.attempts} attempts`;
      throw new LvlmCriticError(
        first.failure,
        scrub(`LVLM critic failed (${first.failure}) after ${tries}: ${first.message}`),
        first.attempts,
      );
    }
    let result = toCritique(first.value.value);
    let missing = missingWords(subjectWords, result.refinedPrompt);
    if (missing.length === 0) return result;
    counts.subjectDropped++;
    if (guard === 'reask' && !signal?.aborted) {
      counts.subjectReasks++;
      const second = await ask(
        [
          ...messages,
          { role: 'assistant', content: first.value.text },
          { role: 'user', content: buildReminder(missing, context) },
        ],
        signal,
      );
      if (second.ok) {
        const retried = toCritique(second.value.value);
        const stillMissing = missingWords(subjectWords, retried.refinedPrompt);
        if (stillMissing.length <= missing.length) {
          result = retried;
          missing = stillMissing;
        }
      }
    }
    counts.subjectRestored++;
    if (missing.length === 0) return result;
    counts.subjectPrepended++;
    return { ...result, refinedPrompt: `${input.userPrompt.trim()}, ${result.refinedPrompt}` };
  }

  return {
    id,
    modelId,
    critique,
    metrics: () => ({ ...metrics.snapshot(), ...counts }),
    resetMetrics: () => {
      metrics.reset();
      for (const key of Object.keys(counts) as (keyof typeof counts)[]) counts[key] = 0;
    },
  };
}

/** Options of {@link createOpenAICompatibleCritic}. */
export interface OpenAICompatibleCriticOptions extends Omit<LvlmCriticOptions, 'model'> {
  /** The API root, e.g. `http://localhost:8000/v1` (vLLM), `http://localhost:1234/v1` (LM Studio). */
  readonly baseURL: string;
  /** The model name the server knows, e.g. `Qwen/Qwen2.5-VL-7B-Instruct`. */
  readonly model: string;
  /** The API key, sent as `Authorization: Bearer …`. Prefer `apiKeyEnv`. */
  readonly apiKey?: string;
  /** Name of the environment variable holding the API key (Node only). */
  readonly apiKeyEnv?: string;
  /** Provider name used in ids and provider options. Default `openai-compatible`. */
  readonly providerName?: string;
  /**
   * Whether the server accepts `response_format: { type: 'json_schema' }`. When false,
   * `json_object` is sent instead. Default true.
   */
  readonly supportsStructuredOutputs?: boolean;
  /** A fetch implementation (proxies). Default the global `fetch`. */
  readonly fetch?: typeof globalThis.fetch;
}

function readEnv(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.[name];
}

/**
 * An LVLM critic for any server that speaks the OpenAI chat-completions protocol (vLLM,
 * llama.cpp, LM Studio, SGLang, Ollama's `/v1`, OpenAI itself), built on
 * `@ai-sdk/openai-compatible`. The API key is kept out of every message and metric.
 *
 * @throws InvalidArgumentError for a bad `baseURL` or model name, both `apiKey` and `apiKeyEnv`,
 * or an unset `apiKeyEnv` variable.
 */
export function createOpenAICompatibleCritic(options: OpenAICompatibleCriticOptions): LvlmCritic {
  const { baseURL, model, apiKey, apiKeyEnv, providerName, supportsStructuredOutputs, fetch, ...rest } =
    options;
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    throw new InvalidArgumentError('baseURL', 'expected an absolute http(s) URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError('baseURL', `expected http: or https:, got ${url.protocol}`);
  }
  if (typeof model !== 'string' || model.trim() === '') {
    throw new InvalidArgumentError('model', 'expected the model name the server serves.');
  }
  if (apiKey !== undefined && apiKeyEnv !== undefined) {
    throw new InvalidArgumentError('apiKey', 'give apiKey or apiKeyEnv, not both.');
  }
  let key = apiKey;
  if (apiKeyEnv !== undefined) {
    key = readEnv(apiKeyEnv);
    if (key === undefined || key === '') {
      throw new InvalidArgumentError('apiKeyEnv', `the environment variable ${apiKeyEnv} is not set.`);
    }
  }
  const urlSecrets = [url.password, url.username].filter((s) => s.length > 0);
  const provider = createOpenAICompatible({
    name: providerName ?? 'openai-compatible',
    baseURL: baseURL.replace(/\/+$/, ''),
    ...(key !== undefined ? { apiKey: key } : {}),
    supportsStructuredOutputs: supportsStructuredOutputs ?? true,
    ...(fetch ? { fetch } : {}),
  });
  return createLvlmCritic({
    ...rest,
    model: provider.chatModel(model),
    secrets: [...(rest.secrets ?? []), key, ...urlSecrets],
  });
}
