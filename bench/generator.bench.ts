/**
 * Speed of the EmoFlow generator on the cpu and wasm backends, side by side: images per second
 * for 10-step Euler sampling at batch 8 (with and without guidance), and milliseconds per
 * rectified-flow training step at batch 16. Uses the shipped architecture with fresh weights
 * (speed does not depend on the weight values).
 *
 * Run: `pnpm bench generator`, or `npx tsx bench/generator.bench.ts [--backends wasm,cpu] [--reps 3]`.
 */
import {
  createEmoFlowGenerator,
  embeddedCheckpointFiles,
  FlowMatchingTrainer,
  parseManifest,
  ready,
  SeededRandom,
  tf,
} from '@emofeedback/core';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

const BACKENDS = arg('backends', 'wasm,cpu').split(',') as ('wasm' | 'cpu')[];
const REPS = Number(arg('reps', '3'));

function shippedConfig() {
  try {
    return parseManifest(embeddedCheckpointFiles()['manifest.json'] as Uint8Array).config;
  } catch {
    return undefined;
  }
}

async function best(reps: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn();
  let b = Number.POSITIVE_INFINITY;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    b = Math.min(b, performance.now() - t0);
  }
  return b;
}

const rows: string[] = [];
for (const backend of BACKENDS) {
  await ready({ device: backend });
  const config = shippedConfig();
  const g = createEmoFlowGenerator(config ?? {});
  const rng = new SeededRandom(1);
  const request = {
    prompts: Array.from({ length: 8 }, () => 'a dog in a meadow'),
    emotions: Array.from({ length: 8 }, (_, i) => ({ valence: i / 3 - 1, arousal: 1 - i / 4 })),
    seeds: Array.from({ length: 8 }, (_, i) => i),
  };
  const reps = backend === 'cpu' ? 1 : REPS;
  const sample = await best(reps, () => g.generate(request, { steps: 10 }));
  const guided = await best(reps, () => g.generate(request, { steps: 10, guidanceScale: 2 }));
  const trainer = new FlowMatchingTrainer(g, rng);
  const S = g.config.imageSize;
  const batch = {
    images: tf.tensor4d(rng.uniformArray(16 * S * S * 3), [16, S, S, 3]),
    prompts: Array.from({ length: 16 }, () => 'two trees in a forest at night'),
    emotions: Array.from({ length: 16 }, () => ({ valence: -1, arousal: 0.5 })),
  };
  const train = await best(reps, () => trainer.step(batch));
  batch.images.dispose();
  trainer.dispose();
  const row = `| ${backend} | ${g.model.parameterCount} | ${((8 * 1000) / sample).toFixed(2)} | ${((8 * 1000) / guided).toFixed(2)} | ${train.toFixed(0)} |`;
  console.log(row);
  rows.push(row);
  g.dispose();
}
console.log(
  [
    '| backend | parameters | images/s (10 steps, batch 8) | images/s (guidance 2) | ms per train step (batch 16) |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n'),
);
