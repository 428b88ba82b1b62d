import { InvalidArgumentError } from './errors.js';
import { SeededRandom } from './random.js';
import { tf } from './tf.js';

/**
 * Which linear projections get adapters. `attention`: cross-attention q, k, v and out (as LoRA
 * for SD3 in Flow-GRPO); `film`: the per-block scale/shift projections of the conditioning;
 * `conditioning`: the MLP that mixes time, text and emotion into the conditioning vector;
 * `emotion`: the emotion encoder's MLP.
 */
export type LoraTarget = 'attention' | 'film' | 'conditioning' | 'emotion';

/** Every {@link LoraTarget}. */
export const LORA_TARGETS: readonly LoraTarget[] = ['attention', 'film', 'conditioning', 'emotion'];

/** Low-rank adapter settings. The update of a layer is `(alpha / rank) · x A B`. */
export interface LoraConfig {
  readonly rank: number;
  readonly alpha: number;
  readonly targets: readonly LoraTarget[];
  /** Seed of the random `A` matrices (`B` starts at zero, so a fresh adapter changes nothing). */
  readonly seed: number;
}

/** Rank 4, alpha 4, on attention and FiLM projections. */
export const DEFAULT_LORA_CONFIG: LoraConfig = {
  rank: 4,
  alpha: 4,
  targets: ['attention', 'film'],
  seed: 1234,
};

/** A linear layer that may carry an adapter. */
export interface LinearSpec {
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly group: LoraTarget | 'other';
}

/**
 * Validates a LoRA configuration and fills defaults.
 * @throws InvalidArgumentError for a rank below 1, a non-positive alpha or an unknown target.
 */
export function loraConfig(partial: Partial<LoraConfig> = {}): LoraConfig {
  const config = { ...DEFAULT_LORA_CONFIG, ...partial };
  if (!Number.isInteger(config.rank) || config.rank < 1) {
    throw new InvalidArgumentError('lora.rank', `expected an integer ≥ 1, got ${config.rank}.`);
  }
  if (!(typeof config.alpha === 'number' && Number.isFinite(config.alpha) && config.alpha > 0)) {
    throw new InvalidArgumentError('lora.alpha', `expected a positive number, got ${config.alpha}.`);
  }
  if (!Array.isArray(config.targets) || config.targets.length === 0) {
    throw new InvalidArgumentError(
      'lora.targets',
      `expected a non-empty subset of ${LORA_TARGETS.join(', ')}.`,
    );
  }
  for (const t of config.targets) {
    if (!LORA_TARGETS.includes(t)) {
      throw new InvalidArgumentError(
        'lora.targets',
        `unknown target '${t}'; known: ${LORA_TARGETS.join(', ')}.`,
      );
    }
  }
  if (!Number.isInteger(config.seed)) {
    throw new InvalidArgumentError('lora.seed', `expected an integer, got ${config.seed}.`);
  }
  return { ...config, targets: [...config.targets] };
}

/**
 * Low-rank adapters for a set of linear layers: for each targeted layer `W` (in × out), a
 * random `A` (in × rank, seeded, std 1/rank as in the LoRA paper's Kaiming-uniform scale) and a
 * zero `B` (rank × out). Switching them off ({@link enabled} = false) gives the base network
 * exactly, so the frozen reference of a KL penalty needs no second copy of the weights.
 */
export class LoraAdapters {
  readonly config: LoraConfig;
  /** Adapter variables by name: `<layer>.lora_a`, `<layer>.lora_b`, in layer order. */
  readonly variables = new Map<string, tf.Variable>();
  /** Whether adapters are applied; false runs the base network. */
  enabled = true;
  private readonly scale: number;
  private readonly layers = new Set<string>();

  constructor(layers: readonly LinearSpec[], config: Partial<LoraConfig> = {}) {
    this.config = loraConfig(config);
    this.scale = this.config.alpha / this.config.rank;
    const rng = new SeededRandom(this.config.seed);
    const r = this.config.rank;
    for (const layer of layers) {
      if (layer.group === 'other' || !this.config.targets.includes(layer.group)) continue;
      const a = rng.normalArray(layer.inFeatures * r);
      const std = 1 / Math.sqrt(layer.inFeatures);
      for (let i = 0; i < a.length; i++) a[i] = (a[i] as number) * std;
      this.variables.set(`${layer.name}.lora_a`, tf.variable(tf.tensor2d(a, [layer.inFeatures, r]), true));
      this.variables.set(`${layer.name}.lora_b`, tf.variable(tf.zeros([r, layer.outFeatures]), true));
      this.layers.add(layer.name);
    }
  }

  /** Names of the layers that carry an adapter. */
  get adaptedLayers(): string[] {
    return [...this.layers];
  }

  /** Total adapter parameters. */
  get parameterCount(): number {
    let n = 0;
    for (const v of this.variables.values()) n += v.size;
    return n;
  }

  /** `y + (alpha/rank) · x A B` for an adapted layer while enabled; `y` otherwise. */
  apply(name: string, x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
    if (!this.enabled || !this.layers.has(name)) return y;
    const a = this.variables.get(`${name}.lora_a`) as tf.Variable;
    const b = this.variables.get(`${name}.lora_b`) as tf.Variable;
    return tf.add(y, tf.mul(tf.matMul(tf.matMul(x, a as tf.Tensor2D), b as tf.Tensor2D), this.scale));
  }

  /** Releases the adapter variables. */
  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
    this.layers.clear();
  }
}
