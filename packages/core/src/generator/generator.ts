import type { Emotion } from '../emotion.js';
import type { RgbImage } from '../image.js';

/**
 * What to generate: one image per entry. `prompts`, `emotions` and `seeds` have the same length;
 * the same (prompt, emotion, seed) always gives the same image from the same generator.
 */
export interface GenerationRequest {
  readonly prompts: readonly string[];
  readonly emotions: readonly Emotion[];
  readonly seeds: readonly number[];
}

/** Progress of a generation call, streamed through {@link GenerateOptions.onProgress}. */
export interface GenerationProgress {
  readonly done: number;
  readonly total: number;
  readonly stage: string;
}

export interface GenerateOptions {
  /** Sampling steps, where the generator has steps. */
  readonly steps?: number;
  /** Classifier-free guidance scale, where supported (1 = no guidance). */
  readonly guidanceScale?: number;
  /** Cancels the call. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: GenerationProgress) => void;
}

/**
 * Anything that makes images from prompts, emotions and seeds: the SDK's own trainable
 * rectified-flow model, or an external image model behind an adapter (no gradients).
 */
export interface Generator {
  /** A stable identifier, written into reports, e.g. `emoflow-32@1` or `external:dall-e-3`. */
  readonly id: string;
  generate(request: GenerationRequest, options?: GenerateOptions): Promise<RgbImage[]>;
  /** Releases tensors or connections the generator holds. */
  dispose?(): void;
}
