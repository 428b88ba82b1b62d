import type { SeededRandom, TrainableGenerator, Trajectory } from '@emofeedback/core';
import { tf } from '@emofeedback/core';
import type { GroupAdvantages } from './advantages.js';
import type { GrpoConfig } from './grpo-config.js';
import { type GrpoEngine, type GrpoGradients, mainThreadGrpoEngine } from './grpo-engine.js';
import { epochUpdates, planGrpoIteration, sampleAdvantages, type TrainingTarget } from './grpo-plan.js';
import type { RewardFunction } from './reward-function.js';

/** What one GRPO iteration measured. */
export interface GrpoIterationMetrics {
  readonly rewardMean: number;
  readonly rewardStd: number;
  /** Mean of each reward component. */
  readonly components: Readonly<Record<string, number>>;
  /** Mean of the `emotion` component (null when the reward has none). */
  readonly emotion: number | null;
  /** Mean of the `quality` component (null when the reward has none). */
  readonly quality: number | null;
  readonly loss: number;
  readonly policyLoss: number;
  readonly klLoss: number;
  /**
   * ½·E[(log π − log π_old)²] in nats per transition: the stored log-probs are averaged over
   * the latent's elements, so their difference is scaled back to the whole transition's.
   */
  readonly approxKl: number;
  /** Share of (sample, step) ratios outside [1 − ε, 1 + ε]. */
  readonly clipFraction: number;
  /** Largest |ratio − 1| of the iteration. */
  readonly ratioDeviation: number;
  /** Ratio exp(log π − log π_old) averaged over the first micro-batch of the first epoch (1 on-policy). */
  readonly firstRatio: number;
  /** The KL term on the first micro-batch (0 while adapters are at their zero initialisation). */
  readonly firstKl: number;
  /** Norm of the last update's gradient, before clipping. */
  readonly gradNorm: number;
  /**
   * Cosine between the gradients of an update's two halves (samples of even and of odd groups),
   * averaged over the iteration's updates: near 0 means the update is mostly noise. NaN when no
   * update had both halves.
   */
  readonly gradCosine: number;
  /** Adam steps taken. */
  readonly updates: number;
  readonly zeroSpreadGroups: number;
  readonly zeroSpreadFraction: number;
  readonly invalidSamples: number;
  readonly timings: { readonly sampleMs: number; readonly rewardMs: number; readonly updateMs: number };
}

/** What one GRPO iteration works on. */
export interface GrpoIterationArgs {
  readonly generator: TrainableGenerator;
  readonly reward: RewardFunction;
  /** Adam; weight decay is applied decoupled (AdamW) from `config.weightDecay`. */
  readonly optimizer: tf.Optimizer;
  readonly targets: readonly TrainingTarget[];
  readonly config: GrpoConfig;
  readonly rng: SeededRandom;
  /** Where sampling and gradients run; default {@link mainThreadGrpoEngine} of `generator`. */
  readonly engine?: GrpoEngine;
  readonly signal?: AbortSignal;
}

/**
 * Runs one GRPO iteration. {@link grpoIteration} is the default; to change where the work runs,
 * pass it an engine instead (see {@link GrpoEngine}).
 */
export type GrpoIterationRunner = (args: GrpoIterationArgs) => Promise<GrpoIterationMetrics>;

/** Running sums over an iteration's (micro-batch, step) terms. */
export class GrpoLossTotals {
  loss = 0;
  policy = 0;
  kl = 0;
  approxKl = 0;
  clip = 0;
  ratioDeviation = 0;
  terms = 0;
  ratios = 0;
  firstRatio = Number.NaN;
  firstKl = Number.NaN;
  gradNorm = 0;
  cosines: number[] = [];

  /** @param logProbScale turns a stored log-prob difference into one per transition. */
  constructor(
    private readonly clipRange: number,
    private readonly logProbScale: number,
  ) {}

  /** Adds one (micro-batch, timestep) term, given the stored log-probs of its samples. */
  add(term: GrpoGradients, oldLogProb: readonly number[]): void {
    let ratioSum = 0;
    term.logProbs.forEach((lp, i) => {
      const diff = lp - (oldLogProb[i] as number);
      const ratio = Math.exp(diff);
      ratioSum += ratio;
      const dev = Math.abs(ratio - 1);
      if (dev > this.clipRange) this.clip++;
      this.ratioDeviation = Math.max(this.ratioDeviation, dev);
      this.approxKl += 0.5 * (diff * this.logProbScale) ** 2;
      this.ratios++;
    });
    if (Number.isNaN(this.firstRatio)) this.firstRatio = ratioSum / Math.max(1, term.logProbs.length);
    if (term.kl !== null) {
      this.kl += term.kl;
      if (Number.isNaN(this.firstKl)) this.firstKl = term.kl;
    }
    this.loss += term.loss;
    this.policy += term.policyLoss;
    this.terms++;
  }
}

const mean = (xs: readonly number[]) => {
  const ok = xs.filter((v) => Number.isFinite(v));
  return ok.reduce((s, v) => s + v, 0) / Math.max(1, ok.length);
};

/** The metrics of an iteration from its rewards, advantages, loss totals and timings. */
export function grpoIterationMetrics(
  scored: {
    readonly rewards: readonly number[];
    readonly components: Readonly<Record<string, readonly number[]>>;
  },
  stats: GroupAdvantages,
  totals: GrpoLossTotals,
  groups: number,
  timings: GrpoIterationMetrics['timings'],
): GrpoIterationMetrics {
  const valid = scored.rewards.filter((r) => Number.isFinite(r));
  const rewardMean = mean(valid);
  const std = Math.sqrt(valid.reduce((s, r) => s + (r - rewardMean) ** 2, 0) / Math.max(1, valid.length));
  const components: Record<string, number> = {};
  for (const [name, values] of Object.entries(scored.components)) components[name] = mean(values);
  const n = Math.max(1, totals.terms);
  return {
    rewardMean,
    rewardStd: std,
    components,
    emotion: components.emotion ?? null,
    quality: components.quality ?? null,
    loss: totals.loss / n,
    policyLoss: totals.policy / n,
    klLoss: totals.kl / n,
    approxKl: totals.approxKl / Math.max(1, totals.ratios),
    clipFraction: totals.clip / Math.max(1, totals.ratios),
    ratioDeviation: totals.ratioDeviation,
    firstRatio: totals.firstRatio,
    firstKl: totals.firstKl,
    gradNorm: totals.gradNorm,
    gradCosine: totals.cosines.length ? mean(totals.cosines) : Number.NaN,
    updates: totals.cosines.length,
    zeroSpreadGroups: stats.zeroSpreadGroups,
    zeroSpreadFraction: stats.zeroSpreadGroups / groups,
    invalidSamples: stats.invalidSamples,
    timings,
  };
}

/** Cosine of two gradients given as per-variable arrays (NaN when either is zero). */
export function gradientCosine(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => {
    const y = b[i] as Float32Array;
    for (let j = 0; j < x.length; j++) {
      const u = x[j] as number;
      const v = y[j] as number;
      dot += u * v;
      na += u * u;
      nb += v * v;
    }
  });
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : Number.NaN;
}

/**
 * One GRPO iteration on a flow SDE: sample G trajectories per (prompt, target) with per-step
 * log-probs, score them, compute advantages, then minimise the PPO-clip loss on the per-step
 * ratio plus β·KL to the adapters-off reference over the trained timesteps, with gradients
 * accumulated over `microBatch × microBatchesPerUpdate` samples per AdamW step. The engine
 * decides where sampling and gradients run; the rest is the same for every engine.
 */
export async function grpoIteration(args: GrpoIterationArgs): Promise<GrpoIterationMetrics> {
  const { generator, reward, optimizer, config, rng } = args;
  const engine = args.engine ?? mainThreadGrpoEngine(generator);
  const plan = planGrpoIteration(args.targets, config, rng);
  const { prompts, emotions, seeds, trainSteps } = plan;

  const t0 = Date.now();
  const trajectory = await engine.sampleTrajectories(
    { prompts, emotions, seeds },
    {
      steps: config.steps,
      noiseLevel: config.noiseLevel,
      guidanceScale: config.guidanceScale,
      ...(args.signal ? { signal: args.signal } : {}),
    },
  );
  const t1 = Date.now();
  const scored = await reward.score(trajectory.images, emotions, prompts);
  const t2 = Date.now();

  const { advantages, kept, stats } = sampleAdvantages(scored.rewards, config);
  const [H, W, C] = trajectory.latentShape;
  const totals = new GrpoLossTotals(config.clipRange, trajectory.reduction === 'mean' ? H * W * C : 1);
  const variables = generator.trainableVariables();
  const zeros = () => variables.map((v) => new Float32Array(v.size));
  const loss = {
    clipRange: config.clipRange,
    klWeight: config.klWeight,
    klScaling: config.klScaling,
    detachUnconditional: config.detachUnconditional,
  };

  for (let epoch = 0; epoch < config.innerEpochs && kept.length > 0; epoch++) {
    for (const update of epochUpdates(kept, epoch, trainSteps.length, config, rng)) {
      const halves = [zeros(), zeros()];
      for (const { samples, half, weight } of update) {
        for (const step of trainSteps) {
          const oldLogProb = storedLogProbs(trajectory, step, samples);
          const part = await engine.gradients({
            trajectory,
            step,
            samples,
            oldLogProb,
            advantages: samples.map((s) => advantages[s] as number),
            ...loss,
          });
          totals.add(part, oldLogProb);
          const acc = halves[half] as Float32Array[];
          part.grads.forEach((g, i) => {
            const a = acc[i] as Float32Array;
            for (let j = 0; j < g.length; j++) a[j] = (a[j] as number) + weight * (g[j] as number);
          });
        }
      }
      const [a, b] = halves as [Float32Array[], Float32Array[]];
      totals.cosines.push(gradientCosine(a, b));
      a.forEach((x, i) => {
        const y = b[i] as Float32Array;
        for (let j = 0; j < x.length; j++) x[j] = (x[j] as number) + (y[j] as number);
      });
      totals.gradNorm = applyAdamW(optimizer, variables, a, config);
      await engine.adaptersChanged?.();
    }
  }
  const t3 = Date.now();
  return grpoIterationMetrics(scored, stats, totals, plan.groups.length, {
    sampleMs: t1 - t0,
    rewardMs: t2 - t1,
    updateMs: t3 - t2,
  });
}

/**
 * AdamW on top of tfjs's Adam (tfjs has no AdamW): clips the gradient's global norm, applies
 * decoupled weight decay (w ← w·(1 − lr·decay), before the Adam step, as PyTorch's AdamW does),
 * then takes the Adam step. Returns the norm before clipping.
 */
export function applyAdamW(
  optimizer: tf.Optimizer,
  variables: readonly tf.Variable[],
  gradient: readonly Float32Array[],
  config: Pick<GrpoConfig, 'maxGradNorm' | 'learningRate' | 'weightDecay'>,
): number {
  let sq = 0;
  for (const g of gradient) for (const x of g) sq += x * x;
  const norm = Math.sqrt(sq);
  const scale = config.maxGradNorm > 0 && norm > config.maxGradNorm ? config.maxGradNorm / norm : 1;
  const keep = 1 - config.learningRate * config.weightDecay;
  const named: tf.NamedTensorMap = {};
  variables.forEach((v, i) => {
    if (keep !== 1) tf.tidy(() => v.assign(tf.mul(v, keep)));
    named[v.name] = tf.tidy(() => tf.mul(tf.tensor(gradient[i] as Float32Array, v.shape), scale));
  });
  optimizer.applyGradients(named);
  tf.dispose(Object.values(named));
  return norm;
}

/** A trajectory's stored log-probs of some samples at one step. */
export function storedLogProbs(trajectory: Trajectory, step: number, samples: readonly number[]): number[] {
  return samples.map((s) => (trajectory.logProbs[step] as Float32Array)[s] as number);
}
