import {
  createEmbeddedGenerator,
  type EmoFlowGenerateOptions,
  type EmoFlowGenerator,
  type Emotion,
  emotionGrid,
  type RgbImage,
  ready,
  SeededRandom,
} from '@emofeedback/core';
import {
  type CompositeReward,
  createCompositeReward,
  createLocalEvaluator,
  emotionComponent,
  type LocalEvaluator,
  qualityComponent,
} from '@emofeedback/reward';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HACKS } from './support/hacks.js';

/**
 * The hack suite: content-free edits of real generated images must lower the total reward that
 * GRPO maximises, even where they raise the emotion reward.
 */

// Samplers the SDK's images come from: the trainer's SDE and the default Euler ODE, both at the
// shipped guidance.
const SAMPLERS: readonly EmoFlowGenerateOptions[] = [
  { sampler: 'sde', noiseLevel: 0.7, guidanceScale: 2 },
  { sampler: 'euler', guidanceScale: 2 },
];

let generator: EmoFlowGenerator;
let evaluator: LocalEvaluator;
let reward: CompositeReward;

async function generate(prompts: readonly string[], targets: readonly Emotion[], firstSeed: number) {
  const requests = prompts.flatMap((prompt) => targets.map((emotion) => ({ prompt, emotion })));
  const images: RgbImage[] = [];
  const emotions: Emotion[] = [];
  for (const [s, options] of SAMPLERS.entries()) {
    images.push(
      ...(await generator.generate(
        {
          prompts: requests.map((r) => r.prompt),
          emotions: requests.map((r) => r.emotion),
          seeds: requests.map((_, i) => firstSeed + s * 1000 + i),
        },
        options,
      )),
    );
    emotions.push(...requests.map((r) => r.emotion));
  }
  return { images, emotions };
}

beforeAll(async () => {
  await ready({ device: 'wasm' });
  generator = await createEmbeddedGenerator();
  evaluator = await createLocalEvaluator();
  // The trainer's default reward (`defaultReward` in @emofeedback/rl): −L1 emotion error plus
  // 0.5 × quality.
  reward = createCompositeReward({
    evaluator,
    components: [emotionComponent({ kind: 'l1' }), qualityComponent(evaluator, { weight: 0.5 })],
  });
});

afterAll(() => {
  evaluator?.dispose();
  generator?.dispose();
});

/** Hacks whose gain on the images they help is not yet outweighed (documented in docs/rl.md). */
const PER_IMAGE_GAPS = new Set(['brighter (+0.2)']);

// Generation and ~400 evaluations on wasm take 25–40 s alone; more when the suite runs in parallel.
const SLOW = { timeout: 240_000 };

const mean = (a: readonly number[]) => a.reduce((s, v) => s + v, 0) / a.length;

describe('reward-hacking guard on the shipped generator', () => {
  it('every hack lowers the total reward, also where it raises the emotion reward', SLOW, async () => {
    // Held-out prompts and seeds (the guard was calibrated on others), the corners and centre of V-A space.
    const targets = [-3, 3].flatMap((v) => [-3, 3].map((a) => ({ valence: v, arousal: a })));
    targets.push({ valence: 0, arousal: 0 });
    const { images, emotions } = await generate(
      ['a cat in a city', 'a tombstone on the beach'],
      targets,
      7_000,
    );
    const base = await reward.compute(images, emotions);
    expect(base.failed).toBe(0);
    const rows: string[] = [];
    for (const hack of HACKS) {
      const rng = new SeededRandom(42);
      const hacked = await reward.compute(
        images.map((im) => hack.apply(im, rng)),
        emotions,
      );
      const dEmotion = images.map(
        (_, i) => (hacked.components.emotion?.raw[i] as number) - (base.components.emotion?.raw[i] as number),
      );
      const dQuality = images.map(
        (_, i) => (hacked.components.quality?.raw[i] as number) - (base.components.quality?.raw[i] as number),
      );
      const dTotal = images.map((_, i) => (hacked.total[i] as number) - (base.total[i] as number));
      const raised = dEmotion.flatMap((d, i) => (d > 0 ? [dTotal[i] as number] : []));
      const lowered = dTotal.filter((d) => d < 0).length / dTotal.length;
      rows.push(
        `| ${hack.name} | ${mean(dEmotion).toFixed(2)} | ${mean(dQuality).toFixed(2)} | ${mean(dTotal).toFixed(2)} | ` +
          `${(100 * lowered).toFixed(0)}% | ${raised.length ? `${raised.length}: ${mean(raised).toFixed(2)}` : '0'} |`,
      );
      expect(mean(dTotal), hack.name).toBeLessThan(0);
      expect(lowered, hack.name).toBeGreaterThanOrEqual(0.5);
      // A +0.2 brightness shift is the one edit the guard does not catch image by image: it stays
      // within the spread of the generator's brightness at pleasant targets. It still lowers the
      // total over the batch and for most images.
      if (raised.length > 0 && !PER_IMAGE_GAPS.has(hack.name))
        expect(mean(raised), `${hack.name}, images it helps`).toBeLessThan(0);
    }
    console.log(
      [
        `hack suite over ${images.length} generated images (mean change per image):`,
        '| hack | Δemotion | Δquality | Δtotal | total lower | emotion raised: n, mean Δtotal |',
        '|---|---|---|---|---|---|',
        ...rows,
      ].join('\n'),
    );
  });

  /** Quality of ordinary images over the 5×5 grid (two held-out prompts, both samplers), computed once. */
  let gridQuality: Promise<{ quality: number[]; emotions: Emotion[] }> | undefined;
  const ordinary = () => {
    gridQuality ??= (async () => {
      const { images, emotions } = await generate(
        ['a boat on the sea', 'a flower in a quiet meadow'],
        emotionGrid(),
        9_000,
      );
      const result = await reward.compute(images, emotions);
      return { quality: Array.from(result.components.quality?.raw ?? []), emotions };
    })();
    return gridQuality;
  };
  const LEVELS = [-3, -1.5, 0, 1.5, 3];
  /** Share of unpenalised-looking images (quality ≥ 0.5) at each level of an axis. */
  const shareByLevel = (quality: number[], emotions: Emotion[], axis: 'valence' | 'arousal') =>
    LEVELS.map((l) => {
      const at = quality.filter((_, i) => emotions[i]?.[axis] === l);
      return at.filter((q) => q >= 0.5).length / at.length;
    });

  it('leaves most ordinary generated images alone over the whole 5×5 target grid', SLOW, async () => {
    const { quality, emotions } = await ordinary();
    const sorted = [...quality].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] as number;
    const low = quality.filter((q) => q < 0.5).length / quality.length;
    console.log(
      `ordinary images over the 5×5 grid: quality median ${median.toFixed(2)}, ${(100 * low).toFixed(0)}% below 0.5; ` +
        `share ≥ 0.5 by valence ${shareByLevel(quality, emotions, 'valence')
          .map((v) => v.toFixed(2))
          .join(' / ')}, ` +
        `by arousal ${shareByLevel(quality, emotions, 'arousal')
          .map((v) => v.toFixed(2))
          .join(' / ')}`,
    );
    // An untouched image scores 1; most stay there.
    expect(median).toBeGreaterThan(0.8);
    expect(low).toBeLessThanOrEqual(0.35);
  });

  // The guard's spread depends on the target: with one pooled covariance, pleasant targets (whose
  // images vary more) lost most of their images to the penalty (20% kept at valence 3).
  it('spares most ordinary images at every valence and arousal level', SLOW, async () => {
    const { quality, emotions } = await ordinary();
    for (const axis of ['valence', 'arousal'] as const)
      for (const [l, share] of shareByLevel(quality, emotions, axis).entries())
        expect(share, `${axis} ${LEVELS[l]}`).toBeGreaterThanOrEqual(0.7);
  });
});
