import {
  type Emotion,
  emotion,
  emotionDistance,
  type Generator,
  InvalidArgumentError,
  SeededRandom,
} from '@emofeedback/core';
import type { EmotionEvaluator, Evaluation } from '@emofeedback/reward';
import type { Candidate, Critique, PromptCritic, RoundSummary } from './critic.js';

/** Why the loop stopped. */
export type StopReason =
  | 'max_rounds'
  | 'epsilon'
  | 'patience'
  | 'call_budget'
  | 'time_budget'
  | 'critic_done'
  | 'aborted';

export interface FeedbackLoopOptions {
  readonly generator: Generator;
  /** Scores every image; picks the best and informs the critic. */
  readonly evaluator: EmotionEvaluator;
  readonly critic: PromptCritic;
  /** The user's prompt; its subject is kept in every rewrite. */
  readonly prompt: string;
  readonly target: Emotion;
  /** Maximum rounds, default 3 (as EmoFeedback²). */
  readonly rounds?: number;
  /** Images per round, default 8. */
  readonly imagesPerRound?: number;
  /** Seed of every image seed the loop draws, default 0. */
  readonly seed?: number;
  /** Stop once the best image is within this distance of the target (default 0: never early). */
  readonly epsilon?: number;
  /** Stop after this many rounds without a better best image (default: never). */
  readonly patience?: number;
  /** Most calls to the generator, the evaluator and the critic together (default: no limit). */
  readonly maxCalls?: number;
  /** Wall-clock budget in milliseconds; checked between calls (default: no limit). */
  readonly timeBudgetMs?: number;
  /** Sampling steps and guidance, passed to the generator. */
  readonly steps?: number;
  readonly guidanceScale?: number;
  readonly signal?: AbortSignal;
  /** Progress events, in order. */
  readonly onEvent?: (event: FeedbackEvent) => void;
}

/** One round of the trace. */
export interface RoundRecord {
  readonly round: number;
  readonly prompt: string;
  /** The emotion the round's images were conditioned on. */
  readonly conditioning: Emotion;
  readonly seeds: readonly number[];
  readonly candidates: readonly Candidate[];
  /** The round's best candidate (lowest distance), or null when every evaluation failed. */
  readonly best: Candidate | null;
  readonly critique?: Critique;
  /** Set when the critic failed; the next round reuses the prompt. */
  readonly critiqueError?: string;
  readonly timings: { readonly generateMs: number; readonly evaluateMs: number; readonly critiqueMs: number };
}

/** The loop's full trace: prompts, seeds, scores, critiques, timings and the global best. */
export interface FeedbackTrace {
  readonly userPrompt: string;
  readonly target: Emotion;
  readonly seed: number;
  readonly rounds: readonly RoundRecord[];
  /** The best image over all rounds (never just the last round's). */
  readonly best: Candidate | null;
  readonly stopReason: StopReason;
  readonly calls: { readonly generate: number; readonly evaluate: number; readonly critique: number };
  readonly failedEvaluations: number;
  readonly totalMs: number;
}

/** Progress events streamed by {@link runFeedbackLoop}. */
export type FeedbackEvent =
  | {
      readonly type: 'round-start';
      readonly round: number;
      readonly prompt: string;
      readonly seeds: readonly number[];
    }
  | {
      readonly type: 'round-scored';
      readonly round: number;
      readonly best: Candidate | null;
      readonly globalBest: Candidate | null;
    }
  | {
      readonly type: 'critique';
      readonly round: number;
      readonly critique?: Critique;
      readonly error?: string;
    }
  | { readonly type: 'done'; readonly stopReason: StopReason; readonly best: Candidate | null };

/**
 * The image seeds the loop uses: `rounds × imagesPerRound` draws from `seed`. A best-of-N
 * baseline with the same images budget uses exactly these seeds.
 */
export function loopSeeds(seed: number, rounds: number, imagesPerRound: number): number[][] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: rounds }, () =>
    Array.from({ length: imagesPerRound }, () => rng.nextUint32() >>> 1),
  );
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError(name, `expected a positive integer, got ${value}.`);
  return value;
}

function distanceOf(evaluation: Evaluation, target: Emotion): number {
  return evaluation.ok ? emotionDistance(evaluation, target) : Number.POSITIVE_INFINITY;
}

function bestOf(candidates: readonly Candidate[]): Candidate | null {
  let best: Candidate | null = null;
  for (const c of candidates)
    if (Number.isFinite(c.distance) && (best === null || c.distance < best.distance)) best = c;
  return best;
}

function meanEmotion(candidates: readonly Candidate[]): Emotion | null {
  const ok = candidates.map((c) => c.evaluation).filter((e): e is Evaluation & { ok: true } => e.ok);
  if (ok.length === 0) return null;
  return {
    valence: ok.reduce((s, e) => s + e.valence, 0) / ok.length,
    arousal: ok.reduce((s, e) => s + e.arousal, 0) / ok.length,
  };
}

/**
 * Self-promotion textual feedback: generate a round of images, score them, let the critic
 * explain what misses the target and rewrite the prompt, repeat; return the best image over
 * all rounds with the full trace.
 *
 * @throws InvalidArgumentError / InvalidEmotionError for bad options, before any work.
 */
export async function runFeedbackLoop(options: FeedbackLoopOptions): Promise<FeedbackTrace> {
  const target = emotion(options.target, 'target');
  const userPrompt = typeof options.prompt === 'string' ? options.prompt.trim() : '';
  if (!userPrompt) throw new InvalidArgumentError('prompt', 'the prompt is empty.');
  const rounds = positiveInt('rounds', options.rounds ?? 3);
  const perRound = positiveInt('imagesPerRound', options.imagesPerRound ?? 8);
  const seed = options.seed ?? 0;
  const epsilon = options.epsilon ?? 0;
  const patience = options.patience ?? Number.POSITIVE_INFINITY;
  const maxCalls = options.maxCalls ?? Number.POSITIVE_INFINITY;
  const timeBudget = options.timeBudgetMs ?? Number.POSITIVE_INFINITY;
  if (!(epsilon >= 0)) throw new InvalidArgumentError('epsilon', `expected a number ≥ 0, got ${epsilon}.`);
  if (!(patience >= 1)) throw new InvalidArgumentError('patience', `expected a number ≥ 1, got ${patience}.`);
  if (!(maxCalls >= 2)) throw new InvalidArgumentError('maxCalls', `a round needs 2 calls; got ${maxCalls}.`);

  const emit = options.onEvent ?? (() => {});
  const seeds = loopSeeds(seed, rounds, perRound);
  const started = Date.now();
  const calls = { generate: 0, evaluate: 0, critique: 0 };
  const usedCalls = () => calls.generate + calls.evaluate + calls.critique;
  const records: RoundRecord[] = [];
  const history: RoundSummary[] = [];
  let prompt = userPrompt;
  let conditioning: Emotion = target;
  let best: Candidate | null = null;
  let stale = 0;
  let failed = 0;
  let stopReason: StopReason = 'max_rounds';

  for (let round = 0; round < rounds; round++) {
    if (options.signal?.aborted) {
      stopReason = 'aborted';
      break;
    }
    if (usedCalls() + 2 > maxCalls) {
      stopReason = 'call_budget';
      break;
    }
    if (Date.now() - started >= timeBudget) {
      stopReason = 'time_budget';
      break;
    }
    const roundSeeds = seeds[round] as number[];
    emit({ type: 'round-start', round, prompt, seeds: roundSeeds });

    const t0 = Date.now();
    calls.generate++;
    const images = await options.generator.generate(
      {
        prompts: roundSeeds.map(() => prompt),
        emotions: roundSeeds.map(() => conditioning),
        seeds: roundSeeds,
      },
      { steps: options.steps, guidanceScale: options.guidanceScale, signal: options.signal },
    );
    const t1 = Date.now();
    calls.evaluate++;
    const evaluations = await options.evaluator.evaluate(images, { signal: options.signal });
    const t2 = Date.now();

    const candidates: Candidate[] = images.map((image, index) => {
      const evaluation = evaluations[index] ?? {
        ok: false,
        failure: 'other',
        message: 'no evaluation returned',
      };
      if (!evaluation.ok) failed++;
      return {
        round,
        index,
        prompt,
        seed: roundSeeds[index] as number,
        image,
        evaluation,
        distance: distanceOf(evaluation, target),
      };
    });
    const roundBest = bestOf(candidates);
    if (roundBest && (best === null || roundBest.distance < best.distance)) {
      best = roundBest;
      stale = 0;
    } else {
      stale++;
    }
    emit({ type: 'round-scored', round, best: roundBest, globalBest: best });

    const summary: RoundSummary = {
      round,
      prompt,
      conditioning,
      meanEmotion: meanEmotion(candidates),
      bestDistance: roundBest?.distance ?? Number.POSITIVE_INFINITY,
    };
    const record = {
      round,
      prompt,
      conditioning,
      seeds: roundSeeds,
      candidates,
      best: roundBest,
      timings: { generateMs: t1 - t0, evaluateMs: t2 - t1, critiqueMs: 0 },
    };

    // Stopping rules that need no critique come first, so the last round costs no critic call.
    let stop: StopReason | null = null;
    if (best !== null && best.distance <= epsilon) stop = 'epsilon';
    else if (stale >= patience) stop = 'patience';
    else if (round === rounds - 1) stop = 'max_rounds';
    else if (options.signal?.aborted) stop = 'aborted';
    else if (usedCalls() + 1 + 2 > maxCalls) stop = 'call_budget';
    else if (Date.now() - started >= timeBudget) stop = 'time_budget';
    if (stop) {
      records.push(record);
      history.push(summary);
      stopReason = stop;
      break;
    }

    calls.critique++;
    const t3 = Date.now();
    try {
      const critique = await options.critic.critique(
        {
          target,
          userPrompt,
          currentPrompt: prompt,
          currentConditioning: conditioning,
          round,
          candidates,
          history,
        },
        { signal: options.signal },
      );
      const critiqueMs = Date.now() - t3;
      records.push({ ...record, critique, timings: { ...record.timings, critiqueMs } });
      history.push({ ...summary, critique });
      emit({ type: 'critique', round, critique });
      if (critique.done) {
        stopReason = 'critic_done';
        break;
      }
      if (critique.refinedPrompt.trim()) prompt = critique.refinedPrompt.trim();
      if (critique.conditioning) conditioning = emotion(critique.conditioning, 'critique.conditioning');
    } catch (error) {
      const message = (error as Error).message;
      records.push({
        ...record,
        critiqueError: message,
        timings: { ...record.timings, critiqueMs: Date.now() - t3 },
      });
      history.push(summary);
      emit({ type: 'critique', round, error: message });
    }
  }

  emit({ type: 'done', stopReason, best });
  return {
    userPrompt,
    target,
    seed,
    rounds: records,
    best,
    stopReason,
    calls: { ...calls },
    failedEvaluations: failed,
    totalMs: Date.now() - started,
  };
}

/**
 * The baseline the loop must beat: all `rounds × imagesPerRound` images from the user's prompt
 * with the loop's seeds, best one kept.
 */
export async function bestOfN(
  options: Pick<
    FeedbackLoopOptions,
    'generator' | 'evaluator' | 'prompt' | 'target' | 'seed' | 'steps' | 'guidanceScale' | 'signal'
  > & {
    readonly rounds?: number;
    readonly imagesPerRound?: number;
  },
): Promise<Candidate | null> {
  const target = emotion(options.target, 'target');
  const rounds = positiveInt('rounds', options.rounds ?? 3);
  const perRound = positiveInt('imagesPerRound', options.imagesPerRound ?? 8);
  const seeds = loopSeeds(options.seed ?? 0, rounds, perRound).flat();
  const images = await options.generator.generate(
    { prompts: seeds.map(() => options.prompt), emotions: seeds.map(() => target), seeds },
    { steps: options.steps, guidanceScale: options.guidanceScale, signal: options.signal },
  );
  const evaluations = await options.evaluator.evaluate(images, { signal: options.signal });
  const candidates = images.map((image, i) => {
    const evaluation =
      evaluations[i] ?? ({ ok: false, failure: 'other', message: 'no evaluation returned' } as const);
    return {
      round: Math.floor(i / perRound),
      index: i % perRound,
      prompt: options.prompt,
      seed: seeds[i] as number,
      image,
      evaluation,
      distance: distanceOf(evaluation, target),
    };
  });
  return bestOf(candidates);
}
