// Generation judged by your own vision-language model: the shipped generator makes the images, an
// OpenAI-compatible LVLM (vLLM, Ollama, llama.cpp, LM Studio, SGLang or a hosted API) reads each
// image's valence and arousal, and the textual-feedback loop rewrites the prompt until the images
// come closer to the target emotion. The critic that rewrites the prompt is the offline one, or
// the same LVLM.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEmbeddedGenerator, type Emotion, imageGrid } from '@emofeedback/core';
import {
  createLocalCritic,
  createOpenAICompatibleCritic,
  type PromptCritic,
  runFeedbackLoop,
} from '@emofeedback/feedback';
import { encodePng } from '@emofeedback/node';
import { createOpenAICompatibleEvaluator, type RemoteMetricsSnapshot } from '@emofeedback/reward';

export interface CustomLvlmOptions {
  /** The server's API root, e.g. `http://localhost:8000/v1`. */
  readonly baseURL: string;
  /** The model name the server serves, e.g. `Qwen/Qwen2.5-VL-7B-Instruct`. */
  readonly model: string;
  /** Name of the environment variable that holds the API key, if the server needs one. */
  readonly apiKeyEnv?: string;
  /** `lvlm`: the same model rewrites the prompts; `local`: the offline critic does. */
  readonly critic: 'lvlm' | 'local';
  readonly prompt: string;
  readonly target: Emotion;
  readonly rounds: number;
  readonly imagesPerRound: number;
  readonly seed: number;
  /** Time limit of one request in milliseconds. */
  readonly timeoutMs: number;
  /** Folder for `best.png`, `rounds.png` and `summary.json`. */
  readonly out: string;
  readonly log: (line: string) => void;
}

/** What the run printed as JSON and wrote to `summary.json`. */
export interface CustomLvlmSummary {
  readonly generator: string;
  readonly evaluator: string;
  readonly critic: string;
  readonly target: Emotion;
  readonly rounds: readonly {
    readonly round: number;
    readonly prompt: string;
    readonly scored: number;
    readonly best: { readonly valence: number; readonly arousal: number; readonly distance: number } | null;
    readonly critique?: string;
  }[];
  readonly best: {
    readonly prompt: string;
    readonly seed: number;
    readonly valence: number;
    readonly arousal: number;
    readonly distance: number;
  } | null;
  readonly stopReason: string;
  readonly evaluatorMetrics: Pick<
    RemoteMetricsSnapshot,
    'calls' | 'attempts' | 'retries' | 'successes' | 'failed'
  >;
  readonly files: readonly string[];
}

export async function runCustomLvlm(options: CustomLvlmOptions): Promise<CustomLvlmSummary> {
  const { log } = options;
  const remote = {
    baseURL: options.baseURL,
    model: options.model,
    ...(options.apiKeyEnv ? { apiKeyEnv: options.apiKeyEnv } : {}),
    timeoutMs: options.timeoutMs,
  };
  const generator = await createEmbeddedGenerator();
  const evaluator = createOpenAICompatibleEvaluator({ ...remote, concurrency: 4 });
  const critic: PromptCritic =
    options.critic === 'lvlm' ? createOpenAICompatibleCritic(remote) : createLocalCritic();
  log(`generator ${generator.id}; evaluator ${evaluator.id}; critic ${critic.id}`);

  const trace = await runFeedbackLoop({
    generator,
    evaluator,
    critic,
    prompt: options.prompt,
    target: options.target,
    rounds: options.rounds,
    imagesPerRound: options.imagesPerRound,
    seed: options.seed,
    onEvent: (e) => {
      if (e.type === 'round-start') log(`round ${e.round}: «${e.prompt}»`);
      if (e.type === 'round-scored' && e.best?.evaluation.ok)
        log(
          `  best reading valence ${e.best.evaluation.valence.toFixed(2)}, arousal ${e.best.evaluation.arousal.toFixed(2)}, distance ${e.best.distance.toFixed(3)}`,
        );
      if (e.type === 'critique') log(`  critic: ${e.critique?.analysis ?? e.error}`);
    },
  });

  await mkdir(options.out, { recursive: true });
  const files: string[] = [];
  const write = async (name: string, bytes: Uint8Array | string) => {
    await writeFile(join(options.out, name), bytes);
    files.push(name);
  };
  if (trace.best) await write('best.png', encodePng(trace.best.image));
  const images = trace.rounds.flatMap((r) => r.candidates.map((c) => c.image));
  if (images.length > 0)
    await write('rounds.png', encodePng(imageGrid(images, { columns: options.imagesPerRound, scale: 2 })));

  const metrics = evaluator.metrics();
  const best = trace.best?.evaluation.ok ? trace.best : null;
  const summary: CustomLvlmSummary = {
    generator: generator.id,
    evaluator: evaluator.id,
    critic: critic.id,
    target: options.target,
    rounds: trace.rounds.map((r) => ({
      round: r.round,
      prompt: r.prompt,
      scored: r.candidates.filter((c) => c.evaluation.ok).length,
      best:
        r.best?.evaluation.ok === true
          ? {
              valence: r.best.evaluation.valence,
              arousal: r.best.evaluation.arousal,
              distance: r.best.distance,
            }
          : null,
      ...(r.critique ? { critique: r.critique.analysis } : {}),
    })),
    best:
      best?.evaluation.ok === true
        ? {
            prompt: best.prompt,
            seed: best.seed,
            valence: best.evaluation.valence,
            arousal: best.evaluation.arousal,
            distance: best.distance,
          }
        : null,
    stopReason: trace.stopReason,
    evaluatorMetrics: {
      calls: metrics.calls,
      attempts: metrics.attempts,
      retries: metrics.retries,
      successes: metrics.successes,
      failed: metrics.failed,
    },
    files: [...files, 'summary.json'],
  };
  await write('summary.json', `${JSON.stringify(summary, null, 2)}\n`);
  generator.dispose?.();
  return summary;
}
