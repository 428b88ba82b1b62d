import { type Emotion, type Generator, type RgbImage, SeededRandom } from '@emofeedback/core';
import type { EmotionEvaluator, Evaluation } from '@emofeedback/reward';
import type { DescriptorEffect } from '../src/index.js';

/**
 * A small deterministic world for testing the loop's logic: the generator paints a flat image
 * whose red channel encodes valence and green channel arousal, as the prompt's descriptors
 * and the seed's noise dictate; the evaluator reads them back.
 */
export const TOY_LEXICON: DescriptorEffect[] = [
  { phrase: 'sunny', valence: 1.2, arousal: 0.2, group: 'light' },
  { phrase: 'at night', valence: -0.8, arousal: -0.6, group: 'light' },
  { phrase: 'stormy', valence: -0.9, arousal: 1.4, group: 'weather' },
  { phrase: 'foggy', valence: -0.2, arousal: -1.2, group: 'weather' },
  { phrase: 'vivid colours', valence: 0.5, arousal: 0.9, group: 'palette' },
  { phrase: 'grey colours', valence: -0.7, arousal: -0.4, group: 'palette' },
];

export const toyBase = (prompt: string): Emotion =>
  prompt.includes('spider') ? { valence: -1.5, arousal: 1 } : { valence: 0.5, arousal: -0.5 };

export function toyEmotion(prompt: string, seed: number): Emotion {
  const parts = prompt.split(',').map((p) => p.trim());
  const base = toyBase(parts[0] ?? '');
  let { valence, arousal } = base;
  for (const d of TOY_LEXICON) {
    if (parts.includes(d.phrase)) {
      valence += d.valence;
      arousal += d.arousal;
    }
  }
  const rng = new SeededRandom(seed);
  return { valence: valence + rng.normal(0, 0.3), arousal: arousal + rng.normal(0, 0.3) };
}

export class ToyGenerator implements Generator {
  readonly id = 'toy';
  calls = 0;
  async generate(request: { prompts: readonly string[]; seeds: readonly number[] }): Promise<RgbImage[]> {
    this.calls++;
    return request.prompts.map((p, i) => {
      const e = toyEmotion(p, request.seeds[i] as number);
      const data = new Float32Array(4 * 4 * 3);
      for (let k = 0; k < 16; k++) {
        data[k * 3] = Math.min(1, Math.max(0, (e.valence + 6) / 12));
        data[k * 3 + 1] = Math.min(1, Math.max(0, (e.arousal + 6) / 12));
      }
      return { width: 4, height: 4, data };
    });
  }
}

export class ToyEvaluator implements EmotionEvaluator {
  readonly id = 'toy-evaluator';
  /** Indices (per call) that fail, to test failure handling. */
  failIndices = new Set<number>();
  async evaluate(images: readonly RgbImage[]): Promise<Evaluation[]> {
    return images.map((img, i) =>
      this.failIndices.has(i)
        ? { ok: false, failure: 'schema', message: 'bad reply' }
        : { ok: true, valence: (img.data[0] as number) * 12 - 6, arousal: (img.data[1] as number) * 12 - 6 },
    );
  }
}
