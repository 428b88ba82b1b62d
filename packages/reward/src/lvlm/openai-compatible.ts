import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { InvalidArgumentError } from '@emofeedback/core';
import { createLvlmEvaluator, type LvlmEvaluator, type LvlmEvaluatorOptions } from './evaluator.js';

/** Options of {@link createOpenAICompatibleEvaluator}. */
export interface OpenAICompatibleEvaluatorOptions extends Omit<LvlmEvaluatorOptions, 'model'> {
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
   * Whether the server accepts `response_format: { type: 'json_schema' }` (vLLM, SGLang,
   * llama.cpp, LM Studio, Ollama and OpenAI do). When false, `json_object` is sent instead.
   * Default true.
   */
  readonly supportsStructuredOutputs?: boolean;
  /** A fetch implementation (proxies, tests). Default the global `fetch`. */
  readonly fetch?: typeof globalThis.fetch;
}

function readEnv(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.[name];
}

/**
 * An LVLM evaluator for any server that speaks the OpenAI chat-completions protocol (vLLM,
 * llama.cpp, LM Studio, SGLang, Ollama's `/v1`, OpenAI itself), built on
 * `@ai-sdk/openai-compatible`. The API key is kept out of every message and metric.
 *
 * @throws InvalidArgumentError for a bad `baseURL`, both or a missing `apiKeyEnv` variable.
 */
export function createOpenAICompatibleEvaluator(options: OpenAICompatibleEvaluatorOptions): LvlmEvaluator {
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
  return createLvlmEvaluator({
    ...rest,
    model: provider.chatModel(model),
    secrets: [...(rest.secrets ?? []), key, ...urlSecrets],
  });
}
