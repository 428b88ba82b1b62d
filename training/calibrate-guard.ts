/**
 * Calibrates the reward-hacking guard of `@emofeedback/reward`'s quality reward on the shipped
 * generator's own images and writes `packages/reward/src/weights/guard-reference.generated.ts`.
 *
 * Sample: `--images` images per sampler, each with its own content prompt (subject, setting,
 * preposition and adjective drawn with `--seed`, in the style of the trainer's prompts; the
 * trainer's held-out prompts are never drawn) and a target cycling through the 5×5 grid
 * {-3, -1.5, 0, 1.5, 3}², with each sampler the SDK uses: the Flow-GRPO SDE (noise level 0.7, the
 * trainer's) and the Euler ODE (the default `generate`), each at guidance 1 and 2. Per sampler, the
 * guard fits the expected image statistics and their spread as functions of the target, and the
 * covariance of the standardised residuals; the radius is the 85th percentile of distances
 * cross-validated over prompts (5 folds); the naturalness ceiling is the 10th percentile of the local
 * evaluator's naturalness over the sample. Seeded throughout: the same options give the same file.
 *
 * Run from `training/` after `pnpm build`: `npx tsx calibrate-guard.ts [--images 300] [--seed 11]`.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createEmbeddedGenerator,
  type EmoFlowGenerateOptions,
  type Emotion,
  emotionGrid,
  type RgbImage,
  ready,
  SCENE_SETTINGS,
  SCENE_SUBJECTS,
  SeededRandom,
} from '@emofeedback/core';
import { createLocalEvaluator } from '@emofeedback/reward';
import { DEFAULT_HELD_OUT_PROMPTS } from '@emofeedback/rl';
import { fitGuardReference, type GuardSample } from '../packages/reward/src/rewards/guard-fit.js';
import { guardStatisticsBatch } from '../packages/reward/src/rewards/guard-stats.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'packages/reward/src/weights/guard-reference.generated.ts');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}
const N_IMAGES = Number(arg('images', '300'));
const SEED = Number(arg('seed', '11'));
const FIRST_IMAGE_SEED = 100_000;

const SAMPLERS: readonly { component: string; options: EmoFlowGenerateOptions }[] = [
  { component: 'sde η=0.7', options: { sampler: 'sde', noiseLevel: 0.7, guidanceScale: 1 } },
  { component: 'sde η=0.7', options: { sampler: 'sde', noiseLevel: 0.7, guidanceScale: 2 } },
  { component: 'euler', options: { sampler: 'euler', guidanceScale: 1 } },
  { component: 'euler', options: { sampler: 'euler', guidanceScale: 2 } },
];

await ready({ device: 'wasm' });
const generator = await createEmbeddedGenerator();
const evaluator = await createLocalEvaluator();
const ADJECTIVES = [
  'green',
  'sandy',
  'big',
  'open',
  'snowy',
  'dense',
  'dry',
  'barren',
  'quiet',
  'deep',
  'modern',
  'busy',
  'grassy',
  'rocky',
  'wide',
  'empty',
  'calm',
];
const heldOut = new Set(DEFAULT_HELD_OUT_PROMPTS);
const rng = new SeededRandom(SEED);
function drawPrompt(): string {
  for (;;) {
    const setting = rng.choice(SCENE_SETTINGS);
    const prep =
      setting === 'sea' || setting === 'beach'
        ? rng.choice(['on the', 'on a'])
        : rng.choice(['in a', 'in the']);
    const adjective = rng.uniform() < 0.5 ? `${rng.choice(ADJECTIVES)} ` : '';
    const prompt = `a ${rng.choice(SCENE_SUBJECTS)} ${prep} ${adjective}${setting}`;
    if (!heldOut.has(prompt)) return prompt;
  }
}
const grid = emotionGrid();
const requests = Array.from({ length: N_IMAGES }, (_, i) => ({
  prompt: drawPrompt(),
  emotion: grid[i % grid.length] as Emotion,
}));

const byComponent = new Map<string, { stats: Float64Array[]; targets: Emotion[]; groups: number[] }>();
const naturalness: number[] = [];
for (const { component, options } of SAMPLERS) {
  const started = Date.now();
  const images: RgbImage[] = [];
  for (let i = 0; i < requests.length; i += 50) {
    const chunk = requests.slice(i, i + 50);
    images.push(
      ...(await generator.generate(
        {
          prompts: chunk.map((r) => r.prompt),
          emotions: chunk.map((r) => r.emotion),
          seeds: chunk.map((_, j) => FIRST_IMAGE_SEED + i + j),
        },
        options,
      )),
    );
  }
  const entry = byComponent.get(component) ?? { stats: [], targets: [], groups: [] };
  entry.stats.push(...(await guardStatisticsBatch(images)));
  entry.targets.push(...requests.map((r) => r.emotion));
  // The prompt's index: the radius is cross-validated over prompts.
  entry.groups.push(...requests.map((_, i) => i));
  byComponent.set(component, entry);
  naturalness.push(...(await evaluator.score(images)).naturalness);
  console.log(
    `${component} (guidance ${options.guidanceScale}): ${images.length} images, ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}
evaluator.dispose();
generator.dispose();

naturalness.sort((a, b) => a - b);
const samples: GuardSample[] = [...byComponent].map(([name, s]) => ({ name, ...s }));
const reference = fitGuardReference(samples, {
  naturalnessCeiling: Number(
    (naturalness[Math.round(0.1 * (naturalness.length - 1))] as number).toPrecision(5),
  ),
  calibratedOn: `${generator.id}: ${N_IMAGES} images per sampler, one prompt each (seed ${SEED}), 5×5 targets; sde η=0.7 and euler, guidance 1 and 2`,
});
console.log(
  'radius',
  reference.radius,
  'distances',
  reference.distanceQuantiles,
  'naturalness ceiling',
  reference.naturalnessCeiling,
);

const { format, calibratedOn, statNames, components, radius, distanceQuantiles, naturalnessCeiling } =
  reference;
await writeFile(
  OUT,
  `// Generated by training/calibrate-guard.ts. Do not edit by hand.
import type { GuardReference } from '../rewards/guard.js';

/** The reward-hacking guard's reference, calibrated on the shipped generator's own images. */
export const GUARD_REFERENCE: GuardReference = {
  format: ${JSON.stringify(format)},
  calibratedOn: ${JSON.stringify(calibratedOn)},
  statNames: ${JSON.stringify(statNames)},
  components: [
${components.map((c) => `    {\n      name: ${JSON.stringify(c.name)},\n      coefficients: ${JSON.stringify(c.coefficients)},\n      logScale: ${JSON.stringify(c.logScale)},\n      precision: ${JSON.stringify(c.precision)},\n    },`).join('\n')}
  ],
  radius: ${radius},
  distanceQuantiles: ${JSON.stringify(distanceQuantiles)},
  naturalnessCeiling: ${naturalnessCeiling},
};
`,
);
console.log(`wrote ${OUT}`);
