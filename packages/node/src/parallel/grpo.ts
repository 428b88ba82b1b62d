import type { EmoFlowGenerator } from '@emofeedback/core';
import {
  type GrpoEngine,
  type GrpoIterationArgs,
  type GrpoIterationMetrics,
  type GrpoIterationRunner,
  grpoIteration,
} from '@emofeedback/rl';
import type { ParallelSampler } from './sampler.js';

/**
 * A GRPO engine on the sampler's worker threads: the group trajectories are sampled
 * data-parallel, and each loss term's gradient is computed data-parallel (every worker
 * differentiates its share of the rows; the shares are combined weighted by size). The
 * iteration itself (plan, advantages, micro-batches, the AdamW step, metrics) is
 * `grpoIteration`'s, so a seed gives the same adapters (to float rounding) as on the main
 * thread, with any number of workers. `generator` is the one the sampler was created from.
 */
export function workerGrpoEngine(generator: EmoFlowGenerator, sampler: ParallelSampler): GrpoEngine {
  // Gradients come back by adapter name; the loop wants them in trainableVariables() order.
  const names = [...(generator.adapters?.variables.keys() ?? [])];
  return {
    id: `workers:${sampler.workers}`,
    async sampleTrajectories(request, options) {
      await sampler.sync();
      return sampler.sampleTrajectories(request, options);
    },
    async gradients(task) {
      const r = await sampler.grpoGradients(task);
      const sizes = generator.trainableVariables().map((v) => v.size);
      return {
        grads: names.map((name, i) => r.grads[name] ?? new Float32Array(sizes[i] as number)),
        logProbs: r.logProbs,
        loss: r.loss,
        policyLoss: r.policyLoss,
        kl: r.kl,
      };
    },
    adaptersChanged: () => sampler.sync(),
  };
}

/**
 * `grpoIteration` with {@link workerGrpoEngine}: one GRPO iteration with sampling and gradients
 * on the sampler's workers, training `generator`.
 */
export function parallelGrpoIteration(
  args: Omit<GrpoIterationArgs, 'engine' | 'generator'> & {
    readonly generator: EmoFlowGenerator;
    readonly sampler: ParallelSampler;
  },
): Promise<GrpoIterationMetrics> {
  const { sampler, ...rest } = args;
  return grpoIteration({ ...rest, engine: workerGrpoEngine(args.generator, sampler) });
}

/**
 * A runner for `EmoFeedbackTrainer`'s `runIteration` option that runs every iteration with
 * {@link workerGrpoEngine}. Equivalent to passing `engine: workerGrpoEngine(generator, sampler)`
 * to the trainer, which is the preferred form.
 */
export function parallelGrpoRunner(
  generator: EmoFlowGenerator,
  sampler: ParallelSampler,
): GrpoIterationRunner {
  const engine = workerGrpoEngine(generator, sampler);
  return (args) => grpoIteration({ ...args, engine });
}
