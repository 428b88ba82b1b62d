import { type EmoFlowGenerator, type SeededRandom, tf } from '@emofeedback/core';
import {
  epochMicroBatches,
  type GrpoConfig,
  type GrpoIterationMetrics,
  type GrpoIterationRunner,
  GrpoLossTotals,
  grpoIterationMetrics,
  planGrpoIteration,
  type RewardFunction,
  sampleAdvantages,
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
  const plan = planGrpoIteration(args.targets, config, rng);
  const { prompts, emotions, seeds, trainSteps } = plan;

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

  const { advantages, kept, stats } = sampleAdvantages(scored.rewards, config);
  const totals = new GrpoLossTotals();
  const variables = generator.trainableVariables();
  const names = [...(generator.adapters?.variables.keys() ?? [])];
  const sizes = variables.map((v) => v.size);
  const zeros = () => sizes.map((n) => new Float32Array(n));

  for (let epoch = 0; epoch < config.innerEpochs && kept.length > 0; epoch++) {
    let accumulated = zeros();
    for (const { samples, weight, update } of epochMicroBatches(
      kept,
      epoch,
      trainSteps.length,
      config,
      rng,
    )) {
      for (const step of trainSteps) {
        const part = await sampler.grpoGradients(trajectory, {
          samples,
          step,
          oldLogProb: samples.map((s) => (trajectory.logProbs[step] as Float32Array)[s] as number),
          advantages: samples.map((s) => advantages[s] as number),
          clipRange: config.clipRange,
          klWeight: config.klWeight,
        });
        totals.add({
          loss: part.loss,
          policyLoss: part.policyLoss,
          kl: config.klWeight > 0 ? part.kl : null,
          approxKl: part.approxKl,
          clipFraction: part.clipFraction,
          ratio: part.ratio,
        });
        names.forEach((name, i) => {
          const g = part.grads[name];
          const acc = accumulated[i] as Float32Array;
          if (g) for (let j = 0; j < g.length; j++) acc[j] = (acc[j] as number) + weight * (g[j] as number);
        });
      }
      if (update) {
        totals.gradNorm = applyUpdate(optimizer, variables, accumulated, config.maxGradNorm);
        accumulated = zeros();
        await sampler.sync();
      }
    }
  }
  const t3 = Date.now();
  return grpoIterationMetrics(scored, stats, totals, plan.groups.length, {
    sampleMs: t1 - t0,
    rewardMs: t2 - t1,
    updateMs: t3 - t2,
  });
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
