/**
 * Where the time of a training step goes, per tfjs kernel (tf.profile), on the wasm backend with
 * the shipped generator: the rectified-flow training step (batch 16, all base weights) and one
 * GRPO gradient computation (re-scoring one step of 16 samples, gradients of the adapters only).
 *
 * Run: `pnpm bench profile`, or `node --import tsx bench/profile.bench.ts [--top 15]`.
 */
import { parseArgs } from 'node:util';
import {
  createEmbeddedGenerator,
  type Emotion,
  FlowMatchingTrainer,
  ready,
  SeededRandom,
  tf,
} from '@emofeedback/core';

const { values } = parseArgs({ options: { top: { type: 'string', default: '15' } } });
const TOP = Number(values.top);

interface Row {
  name: string;
  shapes: string;
  calls: number;
  ms: number;
}

async function profile(label: string, fn: () => unknown): Promise<void> {
  fn(); // warm-up
  const t0 = performance.now();
  fn();
  const plainMs = performance.now() - t0;
  const info = await tf.profile(() => {
    fn();
  });
  const byName = new Map<string, Row>();
  const byShape = new Map<string, Row>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = Number(k.kernelTimeMs) || 0;
    total += ms;
    const shapes = k.inputShapes.map((s) => (s ? `[${s.join(',')}]` : '–')).join(' ');
    for (const [map, key] of [
      [byName, k.name],
      [byShape, `${k.name} ${shapes}`],
    ] as const) {
      const r = map.get(key) ?? { name: k.name, shapes, calls: 0, ms: 0 };
      r.calls++;
      r.ms += ms;
      map.set(key, r);
    }
  }
  const pct = (ms: number) => `${((100 * ms) / total).toFixed(1)}%`;
  console.log(
    `\n## ${label}: ${plainMs.toFixed(0)} ms unprofiled; ${info.kernels.length} kernels, ${total.toFixed(0)} ms of kernel time\n`,
  );
  console.log('| kernel | calls | ms | share |\n|---|---|---|---|');
  for (const r of [...byName.values()].sort((a, b) => b.ms - a.ms).slice(0, TOP)) {
    console.log(`| ${r.name} | ${r.calls} | ${r.ms.toFixed(1)} | ${pct(r.ms)} |`);
  }
  console.log('\n| kernel and input shapes | calls | ms | share |\n|---|---|---|---|');
  for (const r of [...byShape.values()].sort((a, b) => b.ms - a.ms).slice(0, TOP)) {
    console.log(`| ${r.name} ${r.shapes} | ${r.calls} | ${r.ms.toFixed(1)} | ${pct(r.ms)} |`);
  }
}

const { backend } = await ready({ device: 'wasm' });
console.log(`tfjs ${tf.version_core}, backend ${backend}`);
const prompts = Array.from({ length: 16 }, () => 'two trees in a forest at night');
const emotions: Emotion[] = Array.from({ length: 16 }, () => ({ valence: -1, arousal: 0.5 }));

const base = await createEmbeddedGenerator();
const rng = new SeededRandom(3);
const S = base.config.imageSize;
const trainer = new FlowMatchingTrainer(base, rng);
const images = tf.tensor4d(rng.uniformArray(16 * S * S * 3), [16, S, S, 3]);
await profile('Rectified-flow training step, batch 16', () => trainer.step({ images, prompts, emotions }));
images.dispose();
trainer.dispose();
base.dispose();

const g = await createEmbeddedGenerator({ lora: {} });
const trajectory = await g.sampleTrajectories(
  { prompts, emotions, seeds: prompts.map((_, i) => i) },
  { steps: 10, noiseLevel: 0.7, guidanceScale: 1 },
);
const variables = g.trainableVariables();
await profile('GRPO gradient, one step of 16 samples (adapters only)', () => {
  const { value, grads } = tf.variableGrads(() => {
    const s = g.scoreTrajectory(trajectory, { steps: [2] });
    return tf.add(tf.mean(s.logProbs), tf.mean(tf.square(s.means))) as tf.Scalar;
  }, variables);
  tf.dispose([value, ...Object.values(grads)]);
});
g.dispose();
