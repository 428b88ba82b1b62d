/**
 * The rated training data (OASIS photos and BASS silhouettes) and the fixed validation split.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RgbImage, SeededRandom } from '@emofeedback/core';
import { loadRatedDataset } from '@emofeedback/node';

export type DatasetName = 'oasis' | 'bass';

export interface Sample {
  readonly id: string;
  readonly dataset: DatasetName;
  readonly image: RgbImage;
  readonly valence: number;
  readonly arousal: number;
}

/** `../shared/data` relative to the repository root (resolved at run time). */
export function dataRoot(): string {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const root = resolve(repo, '..', 'shared', 'data');
  if (!existsSync(root))
    throw new Error(`Rated data not found at ${root} (expected ../shared/data beside the repo).`);
  return root;
}

/** Loads both datasets with ratings on the canonical scale. */
export async function loadSamples(): Promise<Sample[]> {
  const root = dataRoot();
  const oasis = await loadRatedDataset(join(root, 'oasis-train'), { scale: 'likert7' });
  const bass = await loadRatedDataset(join(root, 'bass'), { scale: 'sam9' });
  return [
    ...oasis.items.map((s) => ({
      id: `oasis/${s.file}`,
      dataset: 'oasis' as const,
      image: s.image,
      valence: s.valence,
      arousal: s.arousal,
    })),
    ...bass.items.map((s) => ({
      id: `bass/${s.file}`,
      dataset: 'bass' as const,
      image: s.image,
      valence: s.valence,
      arousal: s.arousal,
    })),
  ];
}

/** The split seed used for every reported figure. */
export const SPLIT_SEED = 20251125;

/**
 * Stratified by dataset: a seeded shuffle of each dataset, the first `fraction` of each to validation.
 * Returns a boolean per sample: true = validation.
 */
export function validationMask(samples: readonly Sample[], seed = SPLIT_SEED, fraction = 0.2): boolean[] {
  const rng = new SeededRandom(seed);
  const mask = samples.map(() => false);
  for (const ds of ['oasis', 'bass'] as const) {
    const idx = samples.flatMap((s, i) => (s.dataset === ds ? [i] : []));
    const shuffled = rng.shuffle(idx);
    const nVal = Math.round(idx.length * fraction);
    for (const i of shuffled.slice(0, nVal)) mask[i] = true;
  }
  return mask;
}
