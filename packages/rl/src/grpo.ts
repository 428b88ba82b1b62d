import {
  type Emotion,
  InvalidArgumentError,
  type SeededRandom,
  type TrainableGenerator,
  type Trajectory,
  tf,
} from '@emofeedback/core';
import { type GroupAdvantages, groupAdvantages } from './advantages.js';
import { ppoClipLoss } from './ppo.js';
import type { RewardFunction } from './reward-function.js';

/** GRPO hyper-parameters (defaults follow Flow-GRPO, scaled to small models). */
export interface GrpoConfig {
  /** Distinct (prompt, target) groups per iteration. */
  readonly groupsPerIteration: number;
  /** Samples per group (G). */
  readonly groupSize: number;
  /** SDE sampling steps. */
  readonly steps: number;
  /** SDE noise level a (σ_t = a·sqrt(t/(1−t))). */
  readonly noiseLevel: number;
  /** Classifier-free guidance during sampling (1 = none). */
  readonly guidanceScale: number;
  /** Which transitions train: `[from, to)` step indices (Flow-GRPO trains a window of early steps). */
  readonly trainWindow: readonly [number, number];
  /** How many steps of the window train per iteration, drawn at random (all when ≥ window size). */
  readonly stepsPerIteration: number;
  /** PPO clip range ε. */
  readonly clipRange: number;
  /** KL weight β (KL to the adapters-off reference). */
  readonly klWeight: number;
  /** Advantage clip (±). */
  readonly advantageClip: number;
  /** Samples per gradient computation. */
  readonly microBatch: number;
  /**
   * Micro-batches whose gradients (over every trained step) are accumulated into one Adam step.
   * With several steps per iteration, later micro-batches are scored by an already-updated
   * policy, so the PPO ratio and clipping come into play, as in Flow-GRPO.
   */
  readonly microBatchesPerUpdate: number;
  /** Adam learning rate. */
  readonly learningRate: number;
  /** Global gradient-norm clip (0: none). */
  readonly maxGradNorm: number;
  /** PPO epochs over the same samples. */
  readonly innerEpochs: number;
}

export const DEFAULT_GRPO: GrpoConfig = {
  groupsPerIteration: 4,
  groupSize: 8,
  steps: 10,
  noiseLevel: 0.7,
  guidanceScale: 1,
  trainWindow: [0, 6],
  stepsPerIteration: 3,
  clipRange: 0.2,
  klWeight: 0.01,
  advantageClip: 5,
  microBatch: 16,
  microBatchesPerUpdate: 1,
  learningRate: 3e-3,
  maxGradNorm: 1,
  innerEpochs: 1,
};

/** Checks a (partial) config and fills in defaults. */
export function grpoConfig(overrides: Partial<GrpoConfig> = {}): GrpoConfig {
  const c = { ...DEFAULT_GRPO, ...overrides };
  const posInt = (name: keyof GrpoConfig) => {
    const v = c[name] as number;
    if (!Number.isInteger(v) || v < 1)
      throw new InvalidArgumentError(`grpo.${name}`, `expected a positive integer, got ${v}.`);
  };
  for (const k of ['groupsPerIteration', 'steps', 'stepsPerIteration', 'microBatch', 'innerEpochs'] as const)
    posInt(k);
  if (!Number.isInteger(c.groupSize) || c.groupSize < 2) {
    throw new InvalidArgumentError('grpo.groupSize', `a group needs at least 2 samples, got ${c.groupSize}.`);
  }
  const [from, to] = c.trainWindow;
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && to > from && to <= c.steps)) {
    throw new InvalidArgumentError(
      'grpo.trainWindow',
      `expected 0 ≤ from < to ≤ steps (${c.steps}), got [${from}, ${to}).`,
    );
  }
  if (!(c.noiseLevel > 0))
    throw new InvalidArgumentError('grpo.noiseLevel', `must be > 0 for log-probs, got ${c.noiseLevel}.`);
  for (const k of ['clipRange', 'learningRate'] as const) {
    if (!(c[k] > 0)) throw new InvalidArgumentError(`grpo.${k}`, `must be > 0, got ${c[k]}.`);
  }
  for (const k of ['klWeight', 'maxGradNorm'] as const) {
    if (!(c[k] >= 0)) throw new InvalidArgumentError(`grpo.${k}`, `must be ≥ 0, got ${c[k]}.`);
  }
  return c;
}

/** One (prompt, target emotion) pair GRPO trains on. */
export interface TrainingTarget {
  readonly prompt: string;
  readonly emotion: Emotion;
}

/** What one GRPO iteration measured. */
export interface GrpoIterationMetrics {
  readonly rewardMean: number;
  readonly rewardStd: number;
  /** Mean of each reward component. */
  readonly components: Readonly<Record<string, number>>;
  readonly loss: number;
  readonly policyLoss: number;
  readonly klLoss: number;
  readonly approxKl: number;
  readonly clipFraction: number;
  /** Ratio exp(log π − log π_old) averaged over the first micro-batch of the first epoch (1 on-policy). */
  readonly firstRatio: number;
  /** The KL term on the first micro-batch (0 while adapters are at their zero initialisation). */
  readonly firstKl: number;
  readonly gradNorm: number;
  readonly zeroSpreadGroups: number;
  readonly zeroSpreadFraction: number;
  readonly invalidSamples: number;
  readonly timings: { readonly sampleMs: number; readonly rewardMs: number; readonly updateMs: number };
}

/** What one GRPO iteration works on. */
export interface GrpoIterationArgs {
  readonly generator: TrainableGenerator;
  readonly reward: RewardFunction;
  readonly optimizer: tf.Optimizer;
  readonly targets: readonly TrainingTarget[];
  readonly config: GrpoConfig;
  readonly rng: SeededRandom;
  readonly signal?: AbortSignal;
}

/**
 * Runs one GRPO iteration. {@link grpoIteration} is the default; a runner that spreads the same
 * computation over worker threads (`parallelGrpoRunner` in `@emofeedback/node`) can replace it.
 * A runner must draw from `rng` exactly as `grpoIteration` does, so that runs resume and
 * reproduce whichever runner is used.
 */
export type GrpoIterationRunner = (args: GrpoIterationArgs) => Promise<GrpoIterationMetrics>;

/** One iteration's random draws, made in the order every GRPO runner must make them. */
export interface GrpoIterationPlan {
  /** The (prompt, target) of each group. */
  readonly groups: readonly TrainingTarget[];
  /** Per sample (groups × groupSize, group-major). */
  readonly prompts: readonly string[];
  readonly emotions: readonly Emotion[];
  readonly seeds: readonly number[];
  /** The trained timestep indices, ascending. */
  readonly trainSteps: readonly number[];
}

/** Draws an iteration's groups, seeds and trained steps from `rng`. */
export function planGrpoIteration(
  targets: readonly TrainingTarget[],
  config: GrpoConfig,
  rng: SeededRandom,
): GrpoIterationPlan {
  const groups = Array.from({ length: config.groupsPerIteration }, () => rng.choice(targets));
  const prompts = groups.flatMap((g) => Array.from({ length: config.groupSize }, () => g.prompt));
  const emotions = groups.flatMap((g) => Array.from({ length: config.groupSize }, () => g.emotion));
  const seeds = prompts.map(() => rng.nextUint32() >>> 1);
  const window = Array.from(
    { length: config.trainWindow[1] - config.trainWindow[0] },
    (_, i) => config.trainWindow[0] + i,
  );
  const trainSteps = rng
    .shuffle(window)
    .slice(0, Math.min(config.stepsPerIteration, window.length))
    .sort((a, b) => a - b);
  return { groups, prompts, emotions, seeds, trainSteps };
}

/** Per-sample advantages (group-normalised) and the samples of the groups that are kept. */
export function sampleAdvantages(
  rewards: readonly number[],
  config: GrpoConfig,
): { advantages: number[]; kept: number[]; stats: GroupAdvantages } {
  const grouped = Array.from({ length: config.groupsPerIteration }, (_, g) =>
    rewards.slice(g * config.groupSize, (g + 1) * config.groupSize),
  );
  const stats = groupAdvantages(grouped, { clip: config.advantageClip });
  const advantages = stats.advantages.flat();
  const kept = advantages.map((_, i) => i).filter((i) => stats.kept[Math.floor(i / config.groupSize)]);
  return { advantages, kept, stats };
}

/**
 * The micro-batches of one inner epoch (the kept samples in order in the first epoch, shuffled
 * from `rng` after), each with the weight of its gradient in the accumulated update.
 */
export function epochMicroBatches(
  kept: readonly number[],
  epoch: number,
  trainedSteps: number,
  config: GrpoConfig,
  rng: SeededRandom,
): { samples: number[]; weight: number; update: boolean }[] {
  const order = epoch === 0 ? [...kept] : rng.shuffle(kept);
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += config.microBatch)
    batches.push(order.slice(i, i + config.microBatch));
  const perUpdate = config.microBatchesPerUpdate;
  return batches.map((samples, mb) => {
    const inUpdate = Math.min(perUpdate, batches.length - Math.floor(mb / perUpdate) * perUpdate);
    return {
      samples,
      weight: 1 / (inUpdate * trainedSteps),
      update: (mb + 1) % perUpdate === 0 || mb === batches.length - 1,
    };
  });
}

/** Running sums of the loss terms over an iteration's (micro-batch, step) terms. */
export class GrpoLossTotals {
  loss = 0;
  policy = 0;
  kl = 0;
  approxKl = 0;
  clip = 0;
  terms = 0;
  firstRatio = Number.NaN;
  firstKl = Number.NaN;
  gradNorm = 0;

  /** Adds one (micro-batch, timestep) term. */
  add(term: GrpoStepTerms): void {
    if (term.kl !== null) {
      this.kl += term.kl;
      if (Number.isNaN(this.firstKl)) this.firstKl = term.kl;
    }
    if (Number.isNaN(this.firstRatio)) this.firstRatio = term.ratio;
    this.loss += term.loss;
    this.policy += term.policyLoss;
    this.approxKl += term.approxKl;
    this.clip += term.clipFraction;
    this.terms++;
  }
}

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
  const mean = valid.reduce((s, r) => s + r, 0) / Math.max(1, valid.length);
  const std = Math.sqrt(valid.reduce((s, r) => s + (r - mean) ** 2, 0) / Math.max(1, valid.length));
  const components: Record<string, number> = {};
  for (const [name, values] of Object.entries(scored.components)) {
    const ok = values.filter((v) => Number.isFinite(v));
    components[name] = ok.reduce((s, v) => s + v, 0) / Math.max(1, ok.length);
  }
  const n = Math.max(1, totals.terms);
  return {
    rewardMean: mean,
    rewardStd: std,
    components,
    loss: totals.loss / n,
    policyLoss: totals.policy / n,
    klLoss: totals.kl / n,
    approxKl: totals.approxKl / n,
    clipFraction: totals.clip / n,
    firstRatio: totals.firstRatio,
    firstKl: totals.firstKl,
    gradNorm: totals.gradNorm,
    zeroSpreadGroups: stats.zeroSpreadGroups,
    zeroSpreadFraction: stats.zeroSpreadGroups / groups,
    invalidSamples: stats.invalidSamples,
    timings,
  };
}

/** The loss terms of one (micro-batch, timestep) of GRPO, as {@link GrpoLossTotals.add} takes them. */
export interface GrpoStepTerms {
  readonly loss: number;
  readonly policyLoss: number;
  /** The KL term, or null when the KL weight is 0. */
  readonly kl: number | null;
  readonly approxKl: number;
  readonly clipFraction: number;
  /** Mean of exp(log π − log π_old) over the samples (1 on-policy). */
  readonly ratio: number;
}

/**
 * The GRPO loss of some samples of a stored trajectory at one timestep, and its gradient with
 * respect to the generator's trainable variables (keyed by variable name; the caller disposes
 * them): the PPO-clip loss on the per-step ratio plus β·KL to the adapters-off reference.
 */
export function grpoStepGradients(
  generator: TrainableGenerator,
  trajectory: Trajectory,
  request: {
    readonly step: number;
    readonly samples: readonly number[];
    readonly oldLogProb: readonly number[];
    readonly advantages: readonly number[];
    readonly clipRange: number;
    readonly klWeight: number;
  },
): { grads: tf.NamedTensorMap; terms: GrpoStepTerms } {
  const { step, samples } = request;
  // The reference means are constants of the loss: computed with adapters off, outside the tape.
  const refMeans =
    request.klWeight > 0
      ? generator.withAdaptersDisabled(() => {
          const r = generator.scoreTrajectory(trajectory, { steps: [step], samples });
          r.logProbs.dispose();
          return r.means;
        })
      : null;
  const terms = { loss: 0, policyLoss: 0, kl: null as number | null, approxKl: 0, clipFraction: 0, ratio: 0 };
  const { value, grads } = tf.variableGrads(() => {
    const cur = generator.scoreTrajectory(trajectory, { steps: [step], samples });
    const logProb = tf.reshape(cur.logProbs, [samples.length]);
    const old = tf.tensor1d([...request.oldLogProb]);
    const clip = ppoClipLoss(logProb, old, tf.tensor1d([...request.advantages]), request.clipRange);
    let loss: tf.Scalar = clip.loss;
    if (refMeans) {
      const std = cur.stds[0] as number;
      // Flow-GRPO's KL between the two Gaussian transitions: ‖μθ − μref‖² / (2σ²), per-pixel mean.
      const kl = tf.div(tf.mean(tf.square(tf.sub(cur.means, refMeans))), 2 * std * std) as tf.Scalar;
      terms.kl = kl.dataSync()[0] as number;
      loss = tf.add(loss, tf.mul(kl, request.klWeight)) as tf.Scalar;
    }
    terms.policyLoss = clip.loss.dataSync()[0] as number;
    terms.approxKl = clip.approxKl.dataSync()[0] as number;
    terms.clipFraction = clip.clipFraction.dataSync()[0] as number;
    terms.ratio = tf.tidy(() => tf.mean(tf.exp(tf.sub(logProb, old))).dataSync()[0] as number);
    return loss;
  }, generator.trainableVariables());
  refMeans?.dispose();
  terms.loss = value.dataSync()[0] as number;
  value.dispose();
  return { grads, terms };
}

/**
 * One GRPO iteration on a flow SDE: sample G trajectories per (prompt, target) with per-step
 * log-probs, score them, normalise advantages per group, then minimise the PPO-clip loss on the
 * per-step ratio plus β·KL to the adapters-off reference, over a window of timesteps, with
 * gradients accumulated over `microBatchesPerUpdate` micro-batches per Adam step.
 */
export async function grpoIteration(args: GrpoIterationArgs): Promise<GrpoIterationMetrics> {
  const { generator, reward, optimizer, config, rng } = args;
  const plan = planGrpoIteration(args.targets, config, rng);
  const { prompts, emotions, seeds, trainSteps } = plan;

  const t0 = Date.now();
  const trajectory = await generator.sampleTrajectories(
    { prompts, emotions, seeds },
    {
      steps: config.steps,
      noiseLevel: config.noiseLevel,
      guidanceScale: config.guidanceScale,
      signal: args.signal,
    },
  );
  const t1 = Date.now();
  const scored = await reward.score(trajectory.images, emotions, prompts);
  const t2 = Date.now();

  const { advantages, kept, stats } = sampleAdvantages(scored.rewards, config);
  const totals = new GrpoLossTotals();
  const variables = generator.trainableVariables();

  for (let epoch = 0; epoch < config.innerEpochs && kept.length > 0; epoch++) {
    let accumulated: tf.Tensor[] = variables.map((v) => tf.zerosLike(v));
    for (const { samples, weight, update } of epochMicroBatches(
      kept,
      epoch,
      trainSteps.length,
      config,
      rng,
    )) {
      for (const step of trainSteps) {
        const { grads, terms } = grpoStepGradients(generator, trajectory, {
          step,
          samples,
          oldLogProb: samples.map((s) => (trajectory.logProbs[step] as Float32Array)[s] as number),
          advantages: samples.map((s) => advantages[s] as number),
          clipRange: config.clipRange,
          klWeight: config.klWeight,
        });
        totals.add(terms);
        variables.forEach((v, i) => {
          const g = grads[v.name];
          if (!g) return;
          const next = tf.tidy(() => tf.add(accumulated[i] as tf.Tensor, tf.mul(g, weight)));
          (accumulated[i] as tf.Tensor).dispose();
          accumulated[i] = next;
        });
        tf.dispose(grads);
      }
      if (update) {
        totals.gradNorm = applyUpdate(optimizer, variables, accumulated, config.maxGradNorm);
        accumulated = variables.map((v) => tf.zerosLike(v));
      }
    }
    tf.dispose(accumulated);
  }
  const t3 = Date.now();
  return grpoIterationMetrics(scored, stats, totals, plan.groups.length, {
    sampleMs: t1 - t0,
    rewardMs: t2 - t1,
    updateMs: t3 - t2,
  });
}

/** Clips the accumulated gradient's global norm, takes one Adam step; returns the norm. */
function applyUpdate(
  optimizer: tf.Optimizer,
  variables: readonly tf.Variable[],
  accumulated: tf.Tensor[],
  maxGradNorm: number,
): number {
  const norm = tf.tidy(() =>
    Math.sqrt(accumulated.reduce((s, g) => s + (tf.sum(tf.square(g)).dataSync()[0] as number), 0)),
  );
  const scale = maxGradNorm > 0 && norm > maxGradNorm ? maxGradNorm / norm : 1;
  const named: tf.NamedTensorMap = {};
  variables.forEach((v, i) => {
    named[v.name] = tf.mul(accumulated[i] as tf.Tensor, scale);
  });
  optimizer.applyGradients(named);
  tf.dispose(Object.values(named));
  tf.dispose(accumulated);
  return norm;
}

/** Re-exported for tests: a trajectory's stored log-probs of some samples at one step. */
export function storedLogProbs(trajectory: Trajectory, step: number, samples: readonly number[]): number[] {
  return samples.map((s) => (trajectory.logProbs[step] as Float32Array)[s] as number);
}
