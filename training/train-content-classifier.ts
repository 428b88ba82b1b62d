/**
 * Trains the content classifier (scene subject from a 32×32 image) on rendered procedural
 * scenes and writes its weights to packages/core/src/content/weights.generated.ts.
 *
 *   npx tsx train-content-classifier.ts [--train 15600] [--minutes 7] [--seed 1]
 *
 * Seeded end to end: scene sampling, augmentation and initialisation all draw from
 * SeededRandom. Held-out accuracy is measured on fresh scenes (another seed) at 32 px and at
 * 64 px (resized by the classifier), and written into the generated module's header.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CONTENT_INPUT_SIZE,
  contentLogits,
  encodeContentWeights,
  initContentParams,
  type RgbImage,
  ready,
  renderScene,
  resizeForContent,
  SCENE_SUBJECTS,
  SeededRandom,
  sampleScene,
  tf,
} from '@emofeedback/core';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const TRAIN = arg('train', 15600);
const MINUTES = arg('minutes', 7);
const SEED = arg('seed', 1);
const HELD_OUT_PER_CLASS = arg('heldout', 100);
const BATCH = 64;
const S = CONTENT_INPUT_SIZE;
const PIXELS = S * S * 3;
const classes = SCENE_SUBJECTS;

const log = (...parts: unknown[]) => console.log(new Date().toISOString().slice(11, 19), ...parts);

function renderSet(n: number, seed: number, size: number): { images: RgbImage[]; labels: Int32Array } {
  const rng = new SeededRandom(seed);
  const images: RgbImage[] = [];
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % classes.length;
    labels[i] = label;
    images.push(renderScene(sampleScene(rng, { subject: classes[label] }), { size }));
  }
  return { images, labels };
}

/** Shift, flip, exposure jitter, blur and noise: generated images are blurrier and noisier than renders. */
function augment(src: Float32Array, dst: Float32Array, offset: number, rng: SeededRandom): void {
  const dx = rng.int(-3, 4);
  const dy = rng.int(-3, 4);
  const flip = rng.uniform() < 0.5;
  const gain = rng.uniform(0.75, 1.25);
  const bias = rng.uniform(-0.08, 0.08);
  const noise = rng.uniform() < 0.7 ? rng.uniform(0, 0.08) : 0;
  const blur = rng.uniform() < 0.4;
  const clamp = (v: number) => Math.min(S - 1, Math.max(0, v));
  const tmp = new Float32Array(PIXELS);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const sx = clamp((flip ? S - 1 - x : x) - dx);
      const sy = clamp(y - dy);
      for (let c = 0; c < 3; c++) tmp[(y * S + x) * 3 + c] = src[(sy * S + sx) * 3 + c] as number;
    }
  }
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      for (let c = 0; c < 3; c++) {
        let v: number;
        if (blur) {
          v = 0;
          for (let oy = -1; oy <= 1; oy++) {
            for (let ox = -1; ox <= 1; ox++) v += tmp[(clamp(y + oy) * S + clamp(x + ox)) * 3 + c] as number;
          }
          v /= 9;
        } else {
          v = tmp[(y * S + x) * 3 + c] as number;
        }
        v = v * gain + bias + (noise ? rng.normal(0, noise) : 0);
        dst[offset + (y * S + x) * 3 + c] = Math.min(1, Math.max(0, v));
      }
    }
  }
}

function stack(images: RgbImage[]): tf.Tensor4D {
  const { width, height } = images[0] as RgbImage;
  const flat = new Float32Array(images.length * width * height * 3);
  images.forEach((img, i) => {
    flat.set(img.data, i * width * height * 3);
  });
  return tf.tensor4d(flat, [images.length, height, width, 3]);
}

async function accuracy(
  params: Record<string, tf.Tensor>,
  images: RgbImage[],
  labels: Int32Array,
): Promise<number> {
  let correct = 0;
  for (let i = 0; i < images.length; i += 256) {
    const batch = images.slice(i, i + 256);
    const predicted = tf.tidy(() => {
      const x = stack(batch);
      const resized = resizeForContent(x);
      return tf.argMax(contentLogits(params, resized), 1);
    });
    const p = await predicted.data();
    predicted.dispose();
    p.forEach((v, k) => {
      if (v === labels[i + k]) correct++;
    });
  }
  return correct / images.length;
}

async function main(): Promise<void> {
  const backend = await ready({ device: 'wasm' });
  log('backend', backend.backend, 'train', TRAIN, 'minutes', MINUTES, 'seed', SEED);
  let t = Date.now();
  const train = renderSet(TRAIN, SEED * 1000 + 1, S);
  log(`rendered ${TRAIN} training scenes in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const heldN = HELD_OUT_PER_CLASS * classes.length;
  const held32 = renderSet(heldN, SEED * 1000 + 2, 32);
  const held64 = renderSet(heldN, SEED * 1000 + 2, 64);
  log(`rendered ${heldN} held-out scenes at 32 and 64 px`);

  const rng = new SeededRandom(SEED);
  const params = initContentParams(classes.length, rng.fork());
  const lr0 = 2e-3;
  const optimizer = tf.train.adam(lr0);
  // tfjs keeps the learning rate protected; the schedule sets it between steps.
  const schedule = optimizer as unknown as { learningRate: number };
  const deadline = Date.now() + MINUTES * 60_000;
  const start = Date.now();
  const xs = new Float32Array(BATCH * PIXELS);
  const ys = new Int32Array(BATCH);
  let step = 0;
  let avg = 0;
  while (Date.now() < deadline) {
    // Cosine learning-rate decay over the time budget.
    const progress = (Date.now() - start) / (deadline - start);
    schedule.learningRate = 1e-4 + 0.5 * (lr0 - 1e-4) * (1 + Math.cos(Math.PI * Math.min(1, progress)));
    for (let b = 0; b < BATCH; b++) {
      const i = rng.int(0, TRAIN);
      augment((train.images[i] as RgbImage).data, xs, b * PIXELS, rng);
      ys[b] = train.labels[i] as number;
    }
    const loss = tf.tidy(() => {
      const x = tf.tensor4d(xs, [BATCH, S, S, 3]);
      const y = tf.oneHot(tf.tensor1d(ys, 'int32'), classes.length);
      return optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(y, contentLogits(params, x), undefined, 0.05) as tf.Scalar,
        true,
      ) as tf.Scalar;
    });
    const value = (await loss.data())[0] as number;
    loss.dispose();
    avg = step === 0 ? value : 0.98 * avg + 0.02 * value;
    step++;
    if (step % 200 === 0) {
      log(`step ${step} loss ${avg.toFixed(4)} lr ${schedule.learningRate.toExponential(2)}`);
    }
    if (step % 1500 === 0) {
      log(
        `step ${step} held-out accuracy (32 px, first 390): ${(await accuracy(params, held32.images.slice(0, 390), held32.labels)).toFixed(3)}`,
      );
    }
  }
  t = Date.now();
  const acc32 = await accuracy(params, held32.images, held32.labels);
  const acc64 = await accuracy(params, held64.images, held64.labels);
  log(
    `final after ${step} steps: held-out accuracy 32 px ${acc32.toFixed(4)}, 64 px ${acc64.toFixed(4)}, chance ${(1 / classes.length).toFixed(4)}`,
  );

  const weights = await encodeContentWeights(params, classes);
  const out = fileURLToPath(new URL('../packages/core/src/content/weights.generated.ts', import.meta.url));
  const header = [
    '// Generated by training/train-content-classifier.ts; do not edit.',
    `// ${TRAIN} rendered training scenes, ${step} steps of batch ${BATCH}, seed ${SEED}.`,
    `// Held-out accuracy on ${heldN} fresh scenes: ${(acc32 * 100).toFixed(1)}% at 32 px, ${(acc64 * 100).toFixed(1)}% at 64 px (chance ${(100 / classes.length).toFixed(1)}%).`,
  ].join('\n');
  writeFileSync(
    out,
    `${header}\nimport type { ContentWeights } from './model.js';\n\n/** Trained weights of the shipped content classifier. */\nexport const CONTENT_WEIGHTS: ContentWeights = ${JSON.stringify(weights)};\n\n/** Held-out accuracy of these weights on fresh rendered scenes. */\nexport const CONTENT_WEIGHTS_ACCURACY = ${JSON.stringify({ size32: Number(acc32.toFixed(4)), size64: Number(acc64.toFixed(4)), heldOut: heldN, chance: Number((1 / classes.length).toFixed(4)) })};\n`,
  );
  log(`wrote ${out} (${(weights.data.length / 1024).toFixed(0)} KB of base64)`);
}

await main();
