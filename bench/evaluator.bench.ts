/**
 * Speed of the local evaluators: 64 images (64×64 and 256×256) on the wasm backend.
 *
 *   npx tsx --tsconfig training/tsconfig.json bench/evaluator.bench.ts
 *
 * Prints images per second for the reward model and the judge. Target: 64 images in under 5 s
 * for the reward model on a laptop-class CPU.
 */
import { ready, SeededRandom } from '@emofeedback/core';
import { createLocalEvaluator, createLocalJudge, type LocalEvaluator } from '@emofeedback/reward';

const { backend } = await ready({ device: 'wasm' });
const rng = new SeededRandom(1);
const batch = (size: number, n = 64) =>
  Array.from({ length: n }, () => ({ width: size, height: size, data: rng.uniformArray(size * size * 3) }));

async function bench(name: string, make: () => Promise<LocalEvaluator>): Promise<void> {
  const t0 = performance.now();
  const evaluator = await make();
  const loadMs = performance.now() - t0;
  for (const size of [64, 256]) {
    const images = batch(size);
    await evaluator.evaluate(images.slice(0, 4)); // warm-up
    const times: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const t = performance.now();
      const out = await evaluator.evaluate(images);
      times.push(performance.now() - t);
      if (out.some((e) => !e.ok)) throw new Error('an image failed');
    }
    const best = Math.min(...times);
    const median = times.sort((a, b) => a - b)[1] as number;
    console.log(
      `${name.padEnd(6)} ${evaluator.id}  ${size}×${size}: 64 images in ${(median / 1000).toFixed(2)} s median, ${(best / 1000).toFixed(2)} s best → ${((64 * 1000) / median).toFixed(1)} images/s (load ${(loadMs / 1000).toFixed(2)} s, ${backend})`,
    );
  }
  evaluator.dispose();
}

await bench('reward', createLocalEvaluator);
await bench('judge', createLocalJudge);
