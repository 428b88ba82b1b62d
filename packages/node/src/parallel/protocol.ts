import type {
  EmoFlowConfig,
  FlowMatchingDraws,
  GenerationRequest,
  LoraConfig,
  RgbImage,
  SamplingDefaults,
  Trajectory,
} from '@emofeedback/core';
import type { Evaluation } from '@emofeedback/reward';
import type { GrpoLossSettings } from '@emofeedback/rl';

/** A named float32 array with its shape. */
export interface NamedArray {
  readonly shape: number[];
  readonly data: Float32Array;
}

/** Everything a worker needs to rebuild a generator: config, sampling defaults and weights. */
export interface GeneratorSnapshot {
  readonly config: EmoFlowConfig;
  readonly sampling: SamplingDefaults;
  readonly id: string;
  /** The adapters' config, or null when none are attached. */
  readonly lora: LoraConfig | null;
  /** Base weights by name (omitted when only the adapters changed). */
  readonly weights?: Record<string, NamedArray>;
  /** Adapter weights by name. */
  readonly adapters: Record<string, NamedArray>;
  readonly adaptersEnabled: boolean;
}

/** Sampling options that cross the thread boundary (no callbacks, no signals). */
export interface PlainSamplingOptions {
  readonly steps?: number;
  readonly guidanceScale?: number;
  readonly shift?: number;
  readonly noiseLevel?: number;
  readonly sampler?: 'euler' | 'sde';
}

export type WorkerRequest =
  | {
      readonly id: number;
      readonly kind: 'init';
      readonly device: 'wasm' | 'cpu';
      readonly snapshot: GeneratorSnapshot;
    }
  | { readonly id: number; readonly kind: 'sync'; readonly snapshot: GeneratorSnapshot }
  | {
      readonly id: number;
      readonly kind: 'generate';
      readonly request: GenerationRequest;
      readonly options: PlainSamplingOptions;
    }
  | {
      readonly id: number;
      readonly kind: 'trajectories';
      readonly request: GenerationRequest;
      readonly options: PlainSamplingOptions;
    }
  | ({ readonly id: number; readonly kind: 'grpoGradients' } & GrpoGradientRequest)
  | ({ readonly id: number; readonly kind: 'flowMatchingGradients' } & FlowMatchingGradientRequest)
  | {
      readonly id: number;
      readonly kind: 'evaluate';
      readonly evaluator: LocalEvaluatorKind;
      readonly images: readonly RgbImage[];
    }
  | { readonly id: number; readonly kind: 'close' };

/** Which shipped local evaluator a worker runs: the reward model or the judge. */
export type LocalEvaluatorKind = 'reward' | 'judge';

/** Rows of a rectified-flow training batch with every random draw made by the caller. */
export interface FlowMatchingGradientRequest extends FlowMatchingDraws {
  /** `[n, S, S, 3]` images in [0, 1], flattened. */
  readonly images: Float32Array;
}

/** The gradient of the rows' mean rectified-flow loss with respect to the base weights. */
export interface FlowMatchingGradientResult {
  /** Gradients by base weight name (e.g. `d1.conv1.weight`). */
  readonly grads: Record<string, Float32Array>;
  readonly loss: number;
}

/** One GRPO loss term to differentiate: transitions `step` of every row of a trajectory. */
export interface GrpoGradientRequest extends GrpoLossSettings {
  /** The rows to score (images left out; only the scored transition's latents filled in). */
  readonly trajectory: Trajectory;
  readonly step: number;
  /** Stored log-probs and advantages of the rows, in order. */
  readonly oldLogProb: readonly number[];
  readonly advantages: readonly number[];
}

/** The gradient of one term (mean over its rows), the rows' log-probs and the loss terms. */
export interface GrpoGradientResult {
  /** Gradients by adapter variable name (the generator's adapter names, e.g. `d1.attn.q.lora_a`). */
  readonly grads: Record<string, Float32Array>;
  /** The rows' log-probs under the worker's adapters, in order. */
  readonly logProbs: number[];
  readonly loss: number;
  readonly policyLoss: number;
  /** The KL term, or null when the KL weight is 0. */
  readonly kl: number | null;
}

export type WorkerResponse =
  | {
      readonly id: number;
      readonly ok: true;
      readonly images?: RgbImage[];
      readonly trajectory?: Trajectory;
      readonly gradients?: GrpoGradientResult;
      readonly flowGradients?: FlowMatchingGradientResult;
      readonly evaluations?: Evaluation[];
    }
  | { readonly id: number; readonly ok: false; readonly error: string; readonly code?: string };

/** Marks a worker started by {@link ParallelSampler}. */
export const WORKER_MARKER = 'emofeedback-parallel-sampler';
