import { type EmoFlowGenerator, type SeededRandom, tf } from '@emofeedback/core';
import {
  type GrpoConfig,
  type GrpoIterationMetrics,
  type GrpoIterationRunner,
  groupAdvantages,
  type RewardFunction,
  type TrainingTarget,
} from '@emofeedback/rl';
import type { ParallelSampler } from './sampler.js';

/**
 * `grpoIteration` of @emofeedback/rl with the work spread over the sampler's worker threads:
 * the group trajectories are sampled data-parallel, and each micro-batch's gradient is computed
 * data-parallel (every worker differentiates its share of the rows; the shares are combined
 * weighted by size) before one clipped Adam step on the main thread, whose adapters are then
 * sent to the workers again. Same random draws, same loss, same updates as `grpoIteration`, so a
 * seed gives the same adapters (to float rounding) with any number of workers.
 */
export async function parallelGrpoIteration(args: {
  readonly generator: EmoFlowGenerator;
  readonly sampler: ParallelSampler;
  readonly reward: RewardFunction;
  readonly optimizer: tf.Optimizer;
  readonly targets: readonly TrainingTarget[];
  readonly config: GrpoConfig;
  readonly rng: SeededRandom;
  readonly signal?: AbortSignal;
}): Promise<GrpoIterationMetrics> {
  const { generator, sampler, reward, optimizer, config, rng } = args;
  const groups = Array.from({ length: config.groupsPerIteration }, () => rng.choice(args.targets));
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

  const t0 = Date.now();
  await sampler.sync();
  const trajectory = await sampler.sampleTrajectories(
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

  const grouped = groups.map((_, g) =>
    scored.rewards.slice(g * config.groupSize, (g + 1) * config.groupSize),
  );
  const adv = groupAdvantages(grouped, { clip: config.advantageClip });
  const advantages = adv.advantages.flat();
  const keptSamples = advantages.map((_, i) => i).filter((i) => adv.kept[Math.floor(i / config.groupSize)]);

  let lossSum = 0;
  let policySum = 0;
  let klSum = 0;
  let approxKlSum = 0;
  let clipSum = 0;
  let terms = 0;
  let firstRatio = Number.NaN;
  let firstKl = Number.NaN;
  let gradNorm = 0;
  const variables = generator.trainableVariables();
  const names = [...(generator.adapters?.variables.keys() ?? [])];
  const sizes = variables.map((v) => v.size);
  const zeros = () => sizes.map((n) => new Float32Array(n));

  for (let epoch = 0; epoch < config.innerEpochs && keptSamples.length > 0; epoch++) {
    const order = epoch === 0 ? keptSamples : rng.shuffle(keptSamples);
    const microBatches: number[][] = [];
    for (let i = 0; i < order.length; i += config.microBatch)
      microBatches.push(order.slice(i, i + config.microBatch));
    const perUpdate = config.microBatchesPerUpdate;
    let accumulated = zeros();
    for (const [mb, samples] of microBatches.entries()) {
      const inUpdate = Math.min(perUpdate, microBatches.length - Math.floor(mb / perUpdate) * perUpdate);
      const weight = 1 / (inUpdate * trainSteps.length);
      for (const step of trainSteps) {
        const part = await sampler.grpoGradients(trajectory, {
          samples,
          step,
          oldLogProb: samples.map((s) => (trajectory.logProbs[step] as Float32Array)[s] as number),
          advantages: samples.map((s) => advantages[s] as number),
          clipRange: config.clipRange,
          klWeight: config.klWeight,
        });
        if (config.klWeight > 0) {
          klSum += part.kl;
          if (Number.isNaN(firstKl)) firstKl = part.kl;
        }
        policySum += part.policyLoss;
        approxKlSum += part.approxKl;
        clipSum += part.clipFraction;
        if (Number.isNaN(firstRatio)) firstRatio = part.ratio;
        lossSum += part.loss;
        terms++;
        names.forEach((name, i) => {
          const g = part.grads[name];
          const acc = accumulated[i] as Float32Array;
          if (g) for (let j = 0; j < g.length; j++) acc[j] = (acc[j] as number) + weight * (g[j] as number);
        });
      }
      if ((mb + 1) % perUpdate === 0 || mb === microBatches.length - 1) {
        gradNorm = applyUpdate(optimizer, variables, accumulated, config.maxGradNorm);
        accumulated = zeros();
        await sampler.sync();
      }
    }
  }
  const t3 = Date.now();

  const valid = scored.rewards.filter((r) => Number.isFinite(r));
  const mean = valid.reduce((s, r) => s + r, 0) / Math.max(1, valid.length);
  const std = Math.sqrt(valid.reduce((s, r) => s + (r - mean) ** 2, 0) / Math.max(1, valid.length));
  const components: Record<string, number> = {};
  for (const [name, values] of Object.entries(scored.components)) {
    const ok = values.filter((v) => Number.isFinite(v));
    components[name] = ok.reduce((s, v) => s + v, 0) / Math.max(1, ok.length);
  }
  const n = Math.max(1, terms);
  return {
    rewardMean: mean,
    rewardStd: std,
    components,
    loss: lossSum / n,
    policyLoss: policySum / n,
    klLoss: klSum / n,
    approxKl: approxKlSum / n,
    clipFraction: clipSum / n,
    firstRatio,
    firstKl,
    gradNorm,
    zeroSpreadGroups: adv.zeroSpreadGroups,
    zeroSpreadFraction: adv.zeroSpreadGroups / groups.length,
    invalidSamples: adv.invalidSamples,
    timings: { sampleMs: t1 - t0, rewardMs: t2 - t1, updateMs: t3 - t2 },
  };
}

/** Clips the accumulated gradient's global norm and takes one optimiser step; returns the norm. */
function applyUpdate(
  optimizer: tf.Optimizer,
  variables: readonly tf.Variable[],
  accumulated: readonly Float32Array[],
  maxGradNorm: number,
): number {
  let sq = 0;
  for (const g of accumulated) for (const x of g) sq += x * x;
  const norm = Math.sqrt(sq);
  const scale = maxGradNorm > 0 && norm > maxGradNorm ? maxGradNorm / norm : 1;
  const named: tf.NamedTensorMap = {};
  variables.forEach((v, i) => {
    named[v.name] = tf.tidy(() => tf.mul(tf.tensor(accumulated[i] as Float32Array, v.shape), scale));
  });
  optimizer.applyGradients(named);
  tf.dispose(Object.values(named));
  return norm;
}

/**
 * A runner for `EmoFeedbackTrainer`'s `runIteration` option: every iteration runs as
 * {@link parallelGrpoIteration} on `sampler`'s workers, training `generator` (the same one the
 * sampler was created from; the trainer's own generator may be its `withParallelSampling` view).
 */
export function parallelGrpoRunner(
  generator: EmoFlowGenerator,
  sampler: ParallelSampler,
): GrpoIterationRunner {
  return (args) =>
    parallelGrpoIteration({
      generator,
      sampler,
      reward: args.reward,
      optimizer: args.optimizer,
      targets: args.targets,
      config: args.config,
      rng: args.rng,
      ...(args.signal ? { signal: args.signal } : {}),
    });
}
