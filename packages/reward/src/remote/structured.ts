import {
  type FinishReason,
  generateText,
  type JSONSchema7,
  type LanguageModel,
  type ModelMessage,
  type OutputInterface,
} from 'ai';
import type { z } from 'zod';
import { RemoteReplyError } from './failures.js';

type ProviderOptions = NonNullable<Parameters<typeof generateText>[0]['providerOptions']>;

/** Options of {@link generateStructuredReply}. */
export interface StructuredReplyOptions<T> {
  /** Any Vercel AI SDK language model (OpenAI, Anthropic, Google, Ollama, OpenAI-compatible…). */
  readonly model: LanguageModel;
  readonly system?: string;
  /** The conversation; images go in as `{ type: 'image', image: Uint8Array, mediaType }` parts. */
  readonly messages: ModelMessage[];
  /** Validates the parsed JSON reply; a mismatch is a `schema` failure. */
  readonly schema: z.ZodType<T>;
  /**
   * JSON Schema sent as the response format (`response_format: json_schema` on OpenAI-style
   * APIs). Omit, or set `structuredOutput: false`, to rely on the prompt alone.
   */
  readonly jsonSchema?: JSONSchema7;
  /** Name of the response format, e.g. `emotion_rating`. */
  readonly name?: string;
  readonly description?: string;
  /** Send `jsonSchema` as the response format. Default true when `jsonSchema` is given. */
  readonly structuredOutput?: boolean;
  /** Range checks after the schema: return a message to fail the reply as `out_of_range`. */
  readonly check?: (value: T) => string | undefined;
  readonly signal?: AbortSignal;
  readonly temperature?: number;
  readonly maxOutputTokens?: number;
  readonly providerOptions?: ProviderOptions;
  readonly headers?: Record<string, string>;
}

/** A validated reply of {@link generateStructuredReply}. */
export interface StructuredReply<T> {
  readonly value: T;
  /** The model's raw text. */
  readonly text: string;
  readonly finishReason: FinishReason;
}

/**
 * An AI SDK output specification that asks for JSON matching `schema` (so providers send
 * `response_format: json_schema`) but hands back the raw text: parsing and validation happen in
 * {@link parseStructuredText}, which tells invalid JSON, schema misses, refusals and
 * out-of-range values apart instead of one generic error.
 */
function rawJsonOutput(
  schema: JSONSchema7,
  name?: string,
  description?: string,
): OutputInterface<string, string> {
  return {
    name: 'object',
    responseFormat: Promise.resolve({
      type: 'json' as const,
      schema,
      ...(name !== undefined ? { name } : {}),
      ...(description !== undefined ? { description } : {}),
    }),
    async parseCompleteOutput({ text }) {
      return text;
    },
    async parsePartialOutput({ text }) {
      return { partial: text };
    },
    createElementStreamTransform() {
      return undefined;
    },
  };
}

const REFUSAL_PATTERN =
  /\b(?:i(?:'|’)?m sorry|i am sorry|sorry, (?:but )?i|i can(?:'|’)?t|i cannot|i(?:'|’)?m (?:not able|unable)|i am (?:not able|unable)|i won(?:'|’)?t|i must decline|unable to (?:help|assist|comply|provide|rate|evaluate)|cannot (?:help|assist|comply|provide|rate|evaluate))\b/i;

/** Whether a non-JSON reply reads like a refusal ("I'm sorry, I can't…"). */
export function looksLikeRefusal(text: string): boolean {
  return REFUSAL_PATTERN.test(text);
}

/**
 * Finds the JSON object in a model's reply: the whole text, a fenced ```json block, or the
 * span from the first `{` to the last `}`.
 * @returns the parsed value, or `undefined` when no JSON parses.
 */
export function extractJson(text: string): { value: unknown } | undefined {
  const trimmed = text.trim();
  const candidates: string[] = [trimmed];
  const fence = /```(?:json|JSON)?\s*([\s\S]*?)```/.exec(trimmed);
  if (fence?.[1]) candidates.push(fence[1].trim());
  const first = trimmed.indexOf('{');
  const last = trimmed.lastIndexOf('}');
  if (first >= 0 && last > first) candidates.push(trimmed.slice(first, last + 1));
  for (const candidate of candidates) {
    if (candidate === '') continue;
    try {
      return { value: JSON.parse(candidate) };
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

function preview(text: string, max = 120): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/**
 * Parses and validates a model's text reply.
 * @param options.refusal a refusal the API reported out of band (OpenAI's `message.refusal`).
 * @throws RemoteReplyError of kind `refusal`, `invalid_json`, `schema` or `out_of_range`.
 */
export function parseStructuredText<T>(
  text: string,
  schema: z.ZodType<T>,
  options: { finishReason?: FinishReason; refusal?: string; check?: (value: T) => string | undefined } = {},
): T {
  if (options.refusal)
    throw new RemoteReplyError('refusal', `the model refused: "${preview(options.refusal)}"`);
  if (options.finishReason === 'content-filter') {
    throw new RemoteReplyError('refusal', 'the reply was stopped by the content filter.');
  }
  const json = extractJson(text);
  if (json === undefined) {
    if (text.trim() === '') {
      throw new RemoteReplyError(
        'invalid_json',
        `the reply is empty (finish reason: ${options.finishReason ?? 'unknown'}).`,
      );
    }
    if (looksLikeRefusal(text))
      throw new RemoteReplyError('refusal', `the model refused: "${preview(text)}"`);
    const cut = options.finishReason === 'length' ? ' (cut off at the token limit)' : '';
    throw new RemoteReplyError('invalid_json', `the reply is not valid JSON${cut}: "${preview(text)}"`);
  }
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; ');
    throw new RemoteReplyError('schema', `the reply does not match the schema: ${issues}.`);
  }
  const problem = options.check?.(parsed.data);
  if (problem !== undefined) throw new RemoteReplyError('out_of_range', problem);
  return parsed.data;
}

function bodyRefusal(body: unknown): string | undefined {
  const choices = (body as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) return undefined;
  const refusal = (choices[0] as { message?: { refusal?: unknown } } | undefined)?.message?.refusal;
  return typeof refusal === 'string' && refusal.length > 0 ? refusal : undefined;
}

/**
 * One structured call to a language model through the AI SDK's `generateText` with an output
 * specification (no SDK retries: `maxRetries: 0`, the remote runner retries). The reply is
 * parsed by {@link parseStructuredText}. Use it inside {@link RemoteRunner.run} so that failures
 * are retried and counted.
 * @throws RemoteReplyError for unusable replies; the SDK's errors for HTTP and network failures.
 */
export async function generateStructuredReply<T>(
  options: StructuredReplyOptions<T>,
): Promise<StructuredReply<T>> {
  const structured = options.structuredOutput ?? options.jsonSchema !== undefined;
  const result = await generateText({
    model: options.model,
    ...(options.system !== undefined ? { system: options.system } : {}),
    messages: options.messages,
    maxRetries: 0,
    ...(options.signal ? { abortSignal: options.signal } : {}),
    ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
    ...(options.maxOutputTokens !== undefined ? { maxOutputTokens: options.maxOutputTokens } : {}),
    ...(options.providerOptions ? { providerOptions: options.providerOptions } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
    ...(structured && options.jsonSchema
      ? { output: rawJsonOutput(options.jsonSchema, options.name, options.description) }
      : {}),
  });
  const refusal = bodyRefusal(result.response.body);
  const value = parseStructuredText(result.text, options.schema, {
    finishReason: result.finishReason,
    ...(refusal !== undefined ? { refusal } : {}),
    ...(options.check ? { check: options.check } : {}),
  });
  return { value, text: result.text, finishReason: result.finishReason };
}
