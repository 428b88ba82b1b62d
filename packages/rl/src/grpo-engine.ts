import type { GenerationRequest, TrainableGenerator, Trajectory, TrajectoryOptions } from '@emofeedback/core';
import { tf } from '@emofeedback/core';
import type { GrpoConfig } from './grpo-config.js';
import { ppoClipLoss } from './ppo.js';

/** The loss settings a gradient computation needs (plain data). */
export type GrpoLossSettings = Pick<
  GrpoConfig,
  'clipRange' | 'klWeight' | 'klScaling' | 'detachUnconditional'
>;

/**
 * One GRPO loss term to differentiate: the transitions `step` of some samples of a trajectory.
 * Plain data (no tensors, no functions), so it can cross a thread or a job queue.
 */
export interface GrpoGradientTask extends GrpoLossSettings {
  readonly trajectory: Trajectory;
  readonly step: number;
  /** Row indices into the trajectory. */
  readonly samples: readonly number[];
  /** Stored log-probs and advantages of those rows, in order. */
  readonly oldLogProb: readonly number[];
  readonly advantages: readonly number[];
}

/** The gradient of one term (mean over its rows) and what the loop needs to measure it. */
export interface GrpoGradients {
  /** One array per trainable variable, in `trainableVariables()` order. */
  readonly grads: readonly Float32Array[];
  /** The rows' log-probs under the current adapters, in order (the PPO ratio's numerator). */
  readonly logProbs: readonly number[];
  readonly loss: number;
  readonly policyLoss: number;
  /** The KL term, or null when the KL weight is 0. */
  readonly kl: number | null;
}

/**
 * Where a GRPO iteration's heavy work runs: sampling the groups' trajectories and
 * differentiating the loss terms. Everything else (plan, advantages, micro-batching, the update,
 * the metrics) is {@link grpoIteration}'s, shared by every engine. Requests and results are plain
 * data, so an engine may run them on this thread, on worker threads or on remote workers.
 */
export interface GrpoEngine {
  readonly id: string;
  /** Samples SDE trajectories with the current adapters. */
  sampleTrajectories(request: GenerationRequest, options: TrajectoryOptions): Promise<Trajectory>;
  /** The gradient of one loss term under the current adapters. */
  gradients(task: GrpoGradientTask): Promise<GrpoGradients>;
  /** Called after every optimiser step (e.g. to send the new adapters to workers). */
  adaptersChanged?(): Promise<void>;
}

/** The loss terms of one (micro-batch, timestep) of GRPO. */
export interface GrpoStepTerms {
  readonly loss: number;
  readonly policyLoss: number;
  /** The KL term, or null when the KL weight is 0. */
  readonly kl: number | null;
  /** ½·mean((log π − log π_old)²) on the stored (reduced) log-probs. */
  readonly approxKl: number;
  readonly clipFraction: number;
  /** Mean of exp(log π − log π_old) over the samples (1 on-policy). */
  readonly ratio: number;
  /** The samples' log-probs under the current weights, in order. */
  readonly logProbs: readonly number[];
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
    readonly klScaling?: GrpoConfig['klScaling'];
    readonly detachUnconditional?: boolean;
  },
): { grads: tf.NamedTensorMap; terms: GrpoStepTerms } {
  const { step, samples } = request;
  const score = { steps: [step], samples, detachUnconditional: request.detachUnconditional ?? false };
  // The reference means are constants of the loss: computed with adapters off, outside the tape.
  const refMeans =
    request.klWeight > 0
      ? generator.withAdaptersDisabled(() => {
          const r = generator.scoreTrajectory(trajectory, score);
          r.logProbs.dispose();
          return r.means;
        })
      : null;
  // Flow-GRPO divides by 2σ_t² (σ_t = std_dev_t); the transition's variance is σ_t²·|dt|.
  const dt = (trajectory.timesteps[step] as number) - (trajectory.timesteps[step + 1] as number);
  const terms = {
    loss: 0,
    policyLoss: 0,
    kl: null as number | null,
    approxKl: 0,
    clipFraction: 0,
    ratio: 0,
    logProbs: [] as number[],
  };
  const { value, grads } = tf.variableGrads(() => {
    const cur = generator.scoreTrajectory(trajectory, score);
    const logProb = tf.reshape(cur.logProbs, [samples.length]);
    const old = tf.tensor1d([...request.oldLogProb]);
    const clip = ppoClipLoss(logProb, old, tf.tensor1d([...request.advantages]), request.clipRange);
    let loss: tf.Scalar = clip.loss;
    if (refMeans) {
      const std = cur.stds[0] as number;
      const variance = (request.klScaling ?? 'flow-grpo') === 'flow-grpo' ? (std * std) / dt : std * std;
      // ‖μθ − μref‖² / (2·variance), mean over the latent's elements.
      const kl = tf.div(tf.mean(tf.square(tf.sub(cur.means, refMeans))), 2 * variance) as tf.Scalar;
      terms.kl = kl.dataSync()[0] as number;
      loss = tf.add(loss, tf.mul(kl, request.klWeight)) as tf.Scalar;
    }
    terms.policyLoss = clip.loss.dataSync()[0] as number;
    terms.approxKl = clip.approxKl.dataSync()[0] as number;
    terms.clipFraction = clip.clipFraction.dataSync()[0] as number;
    terms.logProbs = Array.from(logProb.dataSync());
    terms.ratio = tf.tidy(() => tf.mean(tf.exp(tf.sub(logProb, old))).dataSync()[0] as number);
    return loss;
  }, generator.trainableVariables());
  refMeans?.dispose();
  terms.loss = value.dataSync()[0] as number;
  value.dispose();
  return { grads, terms };
}

/** The default engine: samples and differentiates with `generator` on the calling thread. */
export function mainThreadGrpoEngine(generator: TrainableGenerator): GrpoEngine {
  return {
    id: 'main-thread',
    sampleTrajectories: (request, options) => generator.sampleTrajectories(request, options),
    async gradients(task) {
      const { grads, terms } = grpoStepGradients(generator, task.trajectory, task);
      const out = generator.trainableVariables().map((v) => {
        const g = grads[v.name];
        return g ? (g.dataSync() as Float32Array).slice() : new Float32Array(v.size);
      });
      tf.dispose(Object.values(grads));
      return {
        grads: out,
        logProbs: terms.logProbs,
        loss: terms.loss,
        policyLoss: terms.policyLoss,
        kl: terms.kl,
      };
    },
  };
}
