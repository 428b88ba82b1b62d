import { InvalidArgumentError } from '@emofeedback/core';

/**
 * GRPO hyper-parameters. Defaults follow Flow-GRPO (`config/base.py`, `config/grpo.py`) where
 * they carry over to small models; `docs/rl.md` lists each place they differ and why.
 */
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
  /**
   * Under guidance, the unconditional velocity is a constant of the loss (no gradient through
   * it), so the update moves the conditional branch only. No effect at guidance 1.
   */
  readonly detachUnconditional: boolean;
  /** Which transitions train: `[from, to)` step indices (Flow-GRPO: the first 9 of 10). */
  readonly trainWindow: readonly [number, number];
  /** How many steps of the window train per iteration, drawn at random (all when ≥ window size). */
  readonly stepsPerIteration: number;
  /**
   * PPO clip range ε, in the units of the ratio of the stored log-probs. Log-probs are averaged
   * over the latent's elements (as in Flow-GRPO), so ratios stay within about 1e-4 of 1: the
   * range must be that small to bind (Flow-GRPO: 1e-4).
   */
  readonly clipRange: number;
  /** KL weight β (KL to the adapters-off reference). */
  readonly klWeight: number;
  /**
   * How the KL term divides the squared mean difference: `flow-grpo` by 2σ_t² (σ_t the SDE's
   * diffusion coefficient, as Flow-GRPO's `kl_loss`), `transition` by 2σ_t²|dt| (the transition's
   * own variance: the exact KL per element, larger by 1/|dt|).
   */
  readonly klScaling: 'flow-grpo' | 'transition';
  /** Advantage clip (±). */
  readonly advantageClip: number;
  /**
   * The standard deviation advantages are divided by: each group's own (`group`), or that of
   * every reward of the iteration (`batch`, Flow-GRPO's `global_std`). Means are per group.
   */
  readonly advantageStd: 'group' | 'batch';
  /** Samples per gradient computation (a memory bound; it does not change the update). */
  readonly microBatch: number;
  /**
   * Micro-batches whose gradients (over every trained step) are accumulated into one Adam step:
   * `microBatch × microBatchesPerUpdate` samples per update. With several updates per
   * iteration, later ones are scored by an already-updated policy, so the PPO ratio and
   * clipping come into play, as in Flow-GRPO.
   */
  readonly microBatchesPerUpdate: number;
  /** Shuffle the samples before the first inner epoch too (Flow-GRPO does); later ones always are. */
  readonly shuffleFirstEpoch: boolean;
  /** Adam learning rate. */
  readonly learningRate: number;
  /** Decoupled (AdamW) weight decay: each update scales the adapters by 1 − lr·decay first. */
  readonly weightDecay: number;
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
  detachUnconditional: true,
  trainWindow: [0, 9],
  stepsPerIteration: 9,
  clipRange: 1e-4,
  klWeight: 0.01,
  klScaling: 'flow-grpo',
  advantageClip: 5,
  advantageStd: 'batch',
  microBatch: 16,
  microBatchesPerUpdate: 2,
  shuffleFirstEpoch: true,
  learningRate: 3e-3,
  weightDecay: 1e-4,
  maxGradNorm: 1,
  innerEpochs: 1,
};

/**
 * Checks a (partial) config and fills in defaults.
 * @throws InvalidArgumentError naming the first bad field.
 */
export function grpoConfig(overrides: Partial<GrpoConfig> = {}): GrpoConfig {
  const c = { ...DEFAULT_GRPO, ...overrides };
  const posInt = (name: keyof GrpoConfig) => {
    const v = c[name] as number;
    if (!Number.isInteger(v) || v < 1)
      throw new InvalidArgumentError(`grpo.${name}`, `expected a positive integer, got ${v}.`);
  };
  for (const k of [
    'groupsPerIteration',
    'steps',
    'stepsPerIteration',
    'microBatch',
    'microBatchesPerUpdate',
    'innerEpochs',
  ] as const)
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
  for (const k of ['clipRange', 'learningRate', 'advantageClip'] as const) {
    if (!(c[k] > 0)) throw new InvalidArgumentError(`grpo.${k}`, `must be > 0, got ${c[k]}.`);
  }
  for (const k of ['klWeight', 'maxGradNorm', 'weightDecay'] as const) {
    if (!(c[k] >= 0)) throw new InvalidArgumentError(`grpo.${k}`, `must be ≥ 0, got ${c[k]}.`);
  }
  if (!(c.learningRate * c.weightDecay < 1)) {
    throw new InvalidArgumentError('grpo.weightDecay', 'learningRate × weightDecay must be < 1.');
  }
  const oneOf = <K extends keyof GrpoConfig>(k: K, allowed: readonly GrpoConfig[K][]) => {
    if (!allowed.includes(c[k]))
      throw new InvalidArgumentError(
        `grpo.${k}`,
        `expected one of ${allowed.join(', ')}, got ${String(c[k])}.`,
      );
  };
  oneOf('klScaling', ['flow-grpo', 'transition']);
  oneOf('advantageStd', ['group', 'batch']);
  oneOf('detachUnconditional', [true, false]);
  oneOf('shuffleFirstEpoch', [true, false]);
  return c;
}
