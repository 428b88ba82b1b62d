import {
  batchSize,
  type Emotion,
  type ImageBatch,
  InvalidArgumentError,
  validateImageBatch,
} from '@emofeedback/core';
import type { EmotionEvaluator, EvaluateOptions, Evaluation } from '../evaluator.js';
import type { LocalEvaluator, LocalScores } from '../local/evaluator.js';
import { type EmotionRewardOptions, emotionReward, type RewardValues, resolveTargets } from './emotion.js';
import { DEFAULT_GUARD_REFERENCE, guardDistances } from './guard.js';
import { type QualityRewardOptions, qualityFromScores } from './quality.js';

/** What a reward component can read; each expensive part is computed at most once per batch. */
export interface RewardContext {
  readonly images: ImageBatch;
  /** One target per image. */
  readonly targets: readonly Emotion[];
  readonly signal?: AbortSignal;
  /** The composite's evaluator's evaluations (computed once, shared by components). */
  evaluations(): Promise<Evaluation[]>;
  /** Scores of a local evaluator, shared when it is the composite's evaluator. */
  localScores(evaluator: LocalEvaluator): Promise<LocalScores>;
}

/** One term of a composite reward. */
export interface RewardComponent {
  /** Key of the component in the result (unique within a composite). */
  readonly name: string;
  /** Weight in the sum; may be negative; default 1. */
  readonly weight?: number;
  compute(context: RewardContext): Promise<RewardValues>;
}

/** The emotion reward (see `emotionReward`) as a component; name `emotion` by default. */
export function emotionComponent(
  options: EmotionRewardOptions & { name?: string; weight?: number } = {},
): RewardComponent {
  return {
    name: options.name ?? 'emotion',
    weight: options.weight ?? 1,
    compute: async (ctx) => emotionReward(await ctx.evaluations(), ctx.targets, options),
  };
}

/**
 * The quality reward (see `qualityFromScores`) as a component; name `quality` by default.
 * It needs a local evaluator: when the composite's evaluator is local, its backbone pass is
 * shared; otherwise pass one here. The reward-hacking guard measures each image against the
 * generator's own images at that image's target.
 */
export function qualityComponent(
  evaluator: LocalEvaluator,
  options: QualityRewardOptions & { name?: string; weight?: number } = {},
): RewardComponent {
  return {
    name: options.name ?? 'quality',
    weight: options.weight ?? 1,
    compute: async (ctx) => {
      const reference =
        options.guardReference === undefined ? DEFAULT_GUARD_REFERENCE : options.guardReference;
      const distances = reference ? await guardDistances(ctx.images, ctx.targets, reference) : undefined;
      return qualityFromScores(await ctx.localScores(evaluator), evaluator.head, options, distances);
    },
  };
}

/** How component values are put on one scale before weighting. */
export type RewardNormalization = 'none' | 'zscore';

/** Options of {@link createCompositeReward}. */
export interface CompositeRewardOptions {
  /** The evaluator whose evaluations the emotion components read. */
  readonly evaluator: EmotionEvaluator;
  readonly components: readonly RewardComponent[];
  /**
   * `zscore`: each component is standardised within the batch (over its valid images) before
   * weighting, so that components on different scales weigh as their weights say; a component
   * that is constant over the batch contributes 0. Default `none`.
   */
  readonly normalize?: RewardNormalization;
}

/** One component's values in a composite result. */
export interface ComponentResult {
  readonly weight: number;
  /** As the component computed them (0 where invalid). */
  readonly raw: Float64Array;
  /** After normalisation (equal to `raw` with `normalize: 'none'`; 0 where invalid). */
  readonly normalized: Float64Array;
  readonly valid: readonly boolean[];
}

/** A composite reward for a batch, with every component for logging. */
export interface CompositeRewardResult {
  /** `Σ weight · normalized` per image; 0 (a placeholder) where `valid` is false. Never NaN. */
  readonly total: Float64Array;
  /** True where every component could score the image. */
  readonly valid: readonly boolean[];
  readonly components: Readonly<Record<string, ComponentResult>>;
  /** The evaluator's evaluations, when a component asked for them. */
  readonly evaluations: readonly Evaluation[] | undefined;
  /** Number of invalid images. */
  readonly failed: number;
}

/** A weighted sum of reward components over a batch. */
export interface CompositeReward {
  readonly components: readonly RewardComponent[];
  /**
   * Scores a batch against its targets (one for all images or one per image).
   * @throws InvalidImageError / InvalidEmotionError / InvalidArgumentError for bad input.
   */
  compute(
    images: ImageBatch,
    targets: Emotion | readonly Emotion[],
    options?: EvaluateOptions,
  ): Promise<CompositeRewardResult>;
}

function isLocal(e: EmotionEvaluator): e is LocalEvaluator {
  return (
    typeof (e as Partial<LocalEvaluator>).score === 'function' &&
    (e as Partial<LocalEvaluator>).head !== undefined
  );
}

/**
 * Builds a composite reward, e.g. emotion plus a quality guard against reward hacking:
 *
 * ```ts
 * const reward = createCompositeReward({
 *   evaluator,
 *   components: [emotionComponent({ kind: 'gaussian' }), qualityComponent(evaluator, { weight: 0.2 })],
 *   normalize: 'zscore',
 * });
 * const { total, valid, components } = await reward.compute(images, { valence: 2, arousal: 1 });
 * ```
 * @throws InvalidArgumentError for no components, duplicate names or non-finite weights.
 */
export function createCompositeReward(options: CompositeRewardOptions): CompositeReward {
  const { evaluator, components } = options;
  const normalize = options.normalize ?? 'none';
  if (normalize !== 'none' && normalize !== 'zscore')
    throw new InvalidArgumentError('normalize', `expected 'none' or 'zscore', got '${String(normalize)}'.`);
  if (!Array.isArray(components) || components.length === 0)
    throw new InvalidArgumentError('components', 'give at least one reward component.');
  const names = new Set<string>();
  for (const c of components) {
    if (names.has(c.name))
      throw new InvalidArgumentError('components', `two components are named '${c.name}'.`);
    names.add(c.name);
    if (!Number.isFinite(c.weight ?? 1))
      throw new InvalidArgumentError('components', `weight of '${c.name}' must be finite, got ${c.weight}.`);
  }
  return {
    components,
    async compute(images, targetsIn, evalOptions = {}) {
      validateImageBatch(images, 'images');
      const n = batchSize(images);
      const targets = resolveTargets(targetsIn, n);
      const scoreCache = new Map<LocalEvaluator, Promise<LocalScores>>();
      const localScores = (e: LocalEvaluator) => {
        let p = scoreCache.get(e);
        if (!p) {
          p = e.score(images, { signal: evalOptions.signal });
          scoreCache.set(e, p);
        }
        return p;
      };
      let evaluationsPromise: Promise<Evaluation[]> | undefined;
      const evaluations = () => {
        if (!evaluationsPromise) {
          evaluationsPromise = isLocal(evaluator)
            ? localScores(evaluator).then((s) =>
                Array.from({ length: n }, (_, i): Evaluation => {
                  const valence = s.valence[i] as number;
                  const arousal = s.arousal[i] as number;
                  return Number.isFinite(valence) && Number.isFinite(arousal)
                    ? { ok: true, valence, arousal }
                    : { ok: false, failure: 'other', message: 'not scored (aborted).' };
                }),
              )
            : evaluator.evaluate(images, { signal: evalOptions.signal });
        }
        return evaluationsPromise;
      };
      const ctx: RewardContext = { images, targets, signal: evalOptions.signal, evaluations, localScores };
      const results: Record<string, ComponentResult> = {};
      const total = new Float64Array(n);
      const valid = Array.from({ length: n }, () => true);
      for (const c of components) {
        const r = await c.compute(ctx);
        if (r.values.length !== n || r.valid.length !== n)
          throw new InvalidArgumentError(
            'components',
            `'${c.name}' returned ${r.values.length} values for ${n} images.`,
          );
        const ok: boolean[] = r.valid.map(
          (v: boolean, i: number) => v && Number.isFinite(r.values[i] as number),
        );
        const raw = new Float64Array(n);
        for (let i = 0; i < n; i++) raw[i] = ok[i] ? (r.values[i] as number) : 0;
        const normalized = normalize === 'zscore' ? zscore(raw, ok) : raw.slice();
        const weight = c.weight ?? 1;
        results[c.name] = { weight, raw, normalized, valid: ok };
        for (let i = 0; i < n; i++) {
          if (!ok[i]) valid[i] = false;
          total[i] = (total[i] as number) + weight * (normalized[i] as number);
        }
      }
      for (let i = 0; i < n; i++) if (!valid[i]) total[i] = 0;
      return {
        total,
        valid,
        components: results,
        evaluations: evaluationsPromise ? await evaluationsPromise : undefined,
        failed: valid.filter((v) => !v).length,
      };
    },
  };
}

/** Standardises the valid entries (population std); constant or single entries become 0. */
function zscore(values: Float64Array, valid: readonly boolean[]): Float64Array {
  const idx = valid.flatMap((v, i) => (v ? [i] : []));
  const out = new Float64Array(values.length);
  if (idx.length === 0) return out;
  const mean = idx.reduce((s, i) => s + (values[i] as number), 0) / idx.length;
  const std = Math.sqrt(idx.reduce((s, i) => s + ((values[i] as number) - mean) ** 2, 0) / idx.length);
  if (!(std > 1e-12)) return out;
  for (const i of idx) out[i] = ((values[i] as number) - mean) / std;
  return out;
}
