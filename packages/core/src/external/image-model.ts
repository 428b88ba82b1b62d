/**
 * Adapter from Vercel AI SDK image models to the SDK's {@link Generator} interface.
 *
 * It calls the model's `doGenerate` directly (the provider specification, identical in the
 * fields used here for specification versions v3 and v4, i.e. AI SDK 6 and 7), so `@emofeedback/core`
 * needs neither `ai` nor `@ai-sdk/provider` at runtime: pass any provider's image model, e.g.
 * `createOpenAI({ apiKey }).image('gpt-image-1')`. Retries, timeouts and concurrency are
 * handled here so every provider behaves the same.
 */

import { emotion } from '../emotion.js';
import { EmoFeedbackError, InvalidArgumentError, ProviderError, TimeoutError } from '../errors.js';
import type { GenerateOptions, GenerationRequest, Generator } from '../generator/generator.js';
import type { RgbImage } from '../image.js';
import { decodeImage, resizeImage } from './decode.js';
import { defaultEmotionPrompt, type EmotionPromptTemplate } from './emotion-prompt.js';

/** A JSON value, as provider options carry (mirrors `JSONValue` of `@ai-sdk/provider`). */
export type JsonValue = null | string | number | boolean | JsonObject | JsonValue[];
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue | undefined };

/** The call options of an AI SDK image model's `doGenerate` (specification v3/v4) that this adapter sets. */
export interface ImageModelCallOptions {
  prompt: string | undefined;
  n: number;
  size: `${number}x${number}` | undefined;
  aspectRatio: `${number}:${number}` | undefined;
  seed: number | undefined;
  files: undefined;
  mask: undefined;
  providerOptions: Record<string, JsonObject>;
  abortSignal?: AbortSignal;
  headers?: Record<string, string | undefined>;
}

/**
 * The structural shape of an AI SDK image model (`ImageModelV3` / `ImageModelV4` from
 * `@ai-sdk/provider`): what `provider.image(id)` returns.
 */
export interface ImageModelLike {
  readonly specificationVersion: string;
  readonly provider: string;
  readonly modelId: string;
  doGenerate(options: ImageModelCallOptions): PromiseLike<{
    images: string[] | Uint8Array[];
    warnings?: readonly unknown[];
  }>;
}

/** Options for {@link fromImageModel}. */
export interface ImageModelGeneratorOptions {
  /** Generator id for reports; default `external:<modelId>`. */
  readonly id?: string;
  /** Side of the returned square images in pixels (decoded images are resized); default 64. */
  readonly size?: number;
  /** Size asked of the provider, e.g. `'1024x1024'`; default: the provider's default. */
  readonly providerSize?: `${number}x${number}`;
  /** Builds the text the model receives from the user prompt and emotion; default {@link defaultEmotionPrompt}. */
  readonly promptTemplate?: EmotionPromptTemplate;
  /** Requests in flight at once; default 4. */
  readonly concurrency?: number;
  /** Time limit of one attempt in milliseconds; default 120 000. */
  readonly timeoutMs?: number;
  /** Extra attempts after a 429, a 5xx or a network error; default 3. */
  readonly maxRetries?: number;
  /** First retry delay in milliseconds, doubled each retry (a `Retry-After` header wins; capped at 30 s); default 1000. */
  readonly retryDelayMs?: number;
  /** Passed through as the model's `providerOptions`, e.g. `{ openai: { quality: 'low' } }`. */
  readonly providerOptions?: Record<string, JsonObject>;
  /** Extra HTTP headers for HTTP-based providers. */
  readonly headers?: Record<string, string>;
  /**
   * Whether to pass each request's seed to the model (providers without seeds ignore it and
   * report a warning); default true.
   */
  readonly passSeed?: boolean;
  /** Strings never to show in error messages (API keys); common key patterns are masked anyway. */
  readonly redact?: readonly string[];
  /** Receives provider warnings (unsupported settings such as `seed`). */
  readonly onWarning?: (warning: unknown) => void;
}

interface CallFailure {
  status?: number;
  retryable: boolean;
  retryAfterMs?: number;
  kind: string;
  message: string;
}

const KEY_PATTERNS = [
  /\b(sk|pk|rk|xai|gsk|hf|key)[-_][A-Za-z0-9_-]{6,}/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi,
  /([?&](api[-_]?key|key|token|access_token)=)[^&\s"']+/gi,
  /("?(api[-_]?key|authorization|x-api-key)"?\s*[:=]\s*)"?[^",\s}]+"?/gi,
];

/** Masks secrets in a message: the listed strings and common API-key shapes. */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  for (const pattern of KEY_PATTERNS) {
    out = out.replace(pattern, (match, ...groups) => {
      const prefix = typeof groups[0] === 'string' && /[:=]\s*$/.test(groups[0]) ? groups[0] : '';
      return prefix
        ? `${prefix}[redacted]`
        : match.startsWith('Bearer') || match.startsWith('Basic')
          ? `${match.split(/\s+/)[0]} [redacted]`
          : '[redacted]';
    });
  }
  return out;
}

function parseRetryAfter(headers: unknown): number | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as Record<string, string | undefined>;
  const value = h['retry-after'] ?? h['Retry-After'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** Classifies a thrown provider error without keeping it (it may hold request details). */
function classify(error: unknown, secrets: readonly string[]): CallFailure {
  const e = error as {
    statusCode?: unknown;
    isRetryable?: unknown;
    responseHeaders?: unknown;
    message?: unknown;
    name?: unknown;
    cause?: unknown;
  };
  const status = typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  const raw = typeof e?.message === 'string' ? e.message : String(error);
  const message = redactSecrets(raw.length > 300 ? `${raw.slice(0, 300)}…` : raw, secrets);
  if (status !== undefined && status >= 200 && status < 300) {
    // A successful status with an unreadable body (invalid JSON, wrong schema).
    return { status, retryable: false, kind: 'malformed-response', message };
  }
  if (status !== undefined) {
    const retryable = status === 408 || status === 429 || status >= 500;
    return {
      status,
      retryable,
      retryAfterMs: parseRetryAfter(e.responseHeaders),
      kind:
        status === 429
          ? 'rate-limit'
          : status >= 500
            ? 'server'
            : status === 401 || status === 403
              ? 'auth'
              : 'client',
      message: `HTTP ${status}: ${message}`,
    };
  }
  const name = typeof e?.name === 'string' ? e.name : '';
  if (/JSONParse|TypeValidation|InvalidResponseData|NoContentGenerated|InvalidImage/i.test(name)) {
    return { retryable: false, kind: 'malformed-response', message };
  }
  // fetch failures (connection refused, reset) surface as TypeError or APICallError without status.
  if (name === 'TypeError' || e?.isRetryable === true || /fetch failed|ECONN|socket|network/i.test(raw)) {
    return { retryable: true, kind: 'network', message };
  }
  return { retryable: false, kind: 'unknown', message };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A tiny FIFO semaphore: at most `limit` tasks run at once. */
function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  const next = () => {
    if (active >= limit) return;
    const start = queue.shift();
    if (start) {
      active++;
      start();
    }
  };
  return (task) =>
    new Promise((resolve, reject) => {
      queue.push(() => {
        task()
          .then(resolve, reject)
          .finally(() => {
            active--;
            next();
          });
      });
      next();
    });
}

function positiveInt(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(name, `expected an integer ≥ ${min}, got ${String(value)}.`);
  }
  return value;
}

/**
 * Wraps an AI SDK image model as a {@link Generator} for prompt-level feedback (no gradients).
 *
 * Each request entry becomes one `doGenerate` call with `n = 1`: the prompt is built by
 * `promptTemplate` from the user prompt and the target emotion (the model only sees text),
 * the seed is passed through, and the returned PNG or JPEG is decoded and resized to
 * `size × size`. Calls run with bounded concurrency; each attempt has a timeout; 429, 5xx
 * and network failures are retried with exponential backoff (honouring `Retry-After`).
 *
 * Errors: {@link ProviderError} (its `kind` is `rate-limit`, `server`, `auth`, `client`,
 * `network`, `malformed-response` or `unknown`) with API keys masked and no provider error
 * attached; {@link TimeoutError} when an attempt runs past `timeoutMs`; the signal's reason
 * when `options.signal` aborts.
 *
 * @example
 * const generator = fromImageModel(createOpenAI({ apiKey }).image('gpt-image-1'), { size: 64 });
 * const [image] = await generator.generate({ prompts: ['a dog'], emotions: [{ valence: 2, arousal: 1 }], seeds: [1] });
 */
export function fromImageModel(model: ImageModelLike, options: ImageModelGeneratorOptions = {}): Generator {
  if (!model || typeof model.doGenerate !== 'function') {
    throw new InvalidArgumentError('model', 'expected an AI SDK image model with a doGenerate method.');
  }
  const size = positiveInt('size', options.size ?? 64);
  const concurrency = positiveInt('concurrency', options.concurrency ?? 4);
  const timeoutMs = positiveInt('timeoutMs', options.timeoutMs ?? 120_000);
  const maxRetries = positiveInt('maxRetries', options.maxRetries ?? 3, 0);
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const template = options.promptTemplate ?? defaultEmotionPrompt;
  const secrets = options.redact ?? [];
  const run = limiter(concurrency);
  const label = `${model.provider}/${model.modelId}`;

  async function attempt(prompt: string, seed: number, signal: AbortSignal | undefined): Promise<RgbImage> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new TimeoutError(`image model ${label}`, timeoutMs));
    }, timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await model.doGenerate({
        prompt,
        n: 1,
        size: options.providerSize,
        aspectRatio: undefined,
        seed: options.passSeed === false ? undefined : seed,
        files: undefined,
        mask: undefined,
        providerOptions: options.providerOptions ?? {},
        abortSignal: controller.signal,
        ...(options.headers ? { headers: options.headers } : {}),
      });
      for (const warning of result.warnings ?? []) options.onWarning?.(warning);
      const first = result.images?.[0];
      if (first === undefined || first === null || (typeof first === 'string' && first.length === 0)) {
        throw new ProviderError('malformed-response', `image model ${label} returned no image.`);
      }
      try {
        return resizeImage(decodeImage(first), size);
      } catch (error) {
        throw new ProviderError(
          'malformed-response',
          `image model ${label} returned an unreadable image: ${(error as Error).message}`,
        );
      }
    } catch (error) {
      if (timedOut) throw new TimeoutError(`image model ${label}`, timeoutMs);
      if (signal?.aborted) throw signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async function one(prompt: string, seed: number, signal: AbortSignal | undefined): Promise<RgbImage> {
    for (let tryIndex = 0; ; tryIndex++) {
      try {
        return await attempt(prompt, seed, signal);
      } catch (error) {
        if (error instanceof EmoFeedbackError) throw error;
        if (signal?.aborted) throw signal.reason;
        const failure = classify(error, secrets);
        if (!failure.retryable || tryIndex >= maxRetries) {
          const attempts = tryIndex + 1;
          throw new ProviderError(
            failure.kind,
            `image model ${label} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${failure.message}`,
          );
        }
        const backoff = retryDelayMs * 2 ** tryIndex;
        await sleep(Math.min(30_000, failure.retryAfterMs ?? backoff), signal);
      }
    }
  }

  return {
    id: options.id ?? `external:${model.modelId}`,
    async generate(request: GenerationRequest, generateOptions: GenerateOptions = {}): Promise<RgbImage[]> {
      const { prompts, emotions, seeds } = request;
      if (!Array.isArray(prompts) || prompts.length === 0) {
        throw new InvalidArgumentError('request.prompts', 'expected a non-empty array of strings.');
      }
      if (emotions?.length !== prompts.length || seeds?.length !== prompts.length) {
        throw new InvalidArgumentError('request', 'prompts, emotions and seeds must have the same length.');
      }
      const texts = prompts.map((p, i) => {
        if (typeof p !== 'string')
          throw new InvalidArgumentError(`request.prompts[${i}]`, 'expected a string.');
        return template(p, emotion(emotions[i] as never, `request.emotions[${i}]`));
      });
      seeds.forEach((s, i) => {
        if (!Number.isInteger(s))
          throw new InvalidArgumentError(`request.seeds[${i}]`, `expected an integer, got ${s}.`);
      });
      const signal = generateOptions.signal;
      if (signal?.aborted) throw signal.reason;
      let done = 0;
      const total = texts.length;
      return Promise.all(
        texts.map((text, i) =>
          run(async () => {
            if (signal?.aborted) throw signal.reason;
            const image = await one(text, seeds[i] as number, signal);
            done++;
            generateOptions.onProgress?.({ done, total, stage: 'generate' });
            return image;
          }),
        ),
      );
    },
  };
}
