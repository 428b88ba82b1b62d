/**
 * Trains the content classifier (scene subject from a 32×32 image) on rendered procedural
 * scenes and writes its weights to packages/core/src/content/weights.generated.ts.
 *
 *   npx tsx train-content-classifier.ts [--train 13000] [--steps 1500] [--seed 1] [--out <file>]
 *
 * Reproducible: a fixed number of steps (not a time budget), and scene sampling, augmentation
 * and initialisation all draw from SeededRandom. The training set mixes free scenes with scenes
 * drawn for a valence-arousal target (as the generator's training data does), so dark, foggy
 * and washed-out renders of every subject are covered. Held-out accuracy is measured on fresh
 * scenes (other seeds) at 32 px and at 64 px (resized by the classifier), and on scenes drawn
 * for every point of the 5×5 emotion grid (the targets the generator evaluation uses); it is
 * written, with the most frequent confusions, into the generated module's header.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CONTENT_INPUT_SIZE,
  contentLogits,
  emotionGrid,
  encodeContentWeights,
  initContentParams,
  type RgbImage,
  ready,
  renderScene,
  resizeForContent,
  SCENE_SUBJECTS,
  type SceneSpec,
  SeededRandom,
  sampleScene,
  sampleSceneForEmotion,
  tf,
} from '@emofeedback/core';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const TRAIN = arg('train', 13000);
const STEPS = arg('steps', 1500);
const SEED = arg('seed', 1);
const HELD_OUT_PER_CLASS = arg('heldout', 100);
const GRID_PER_TARGET = arg('grid-per-target', 2);
const BATCH = 64;
const S = CONTENT_INPUT_SIZE;
const PIXELS = S * S * 3;
const classes = SCENE_SUBJECTS;

const log = (...parts: unknown[]) => console.log(new Date().toISOString().slice(11, 19), ...parts);

interface LabelledSet {
  images: RgbImage[];
  labels: Int32Array;
}

/**
 * `n` scenes, classes in turn. With `mixed`, every other scene is drawn for a uniform random
 * valence-arousal target instead of freely.
 */
function sampleSpecs(n: number, seed: number, mixed: boolean): SceneSpec[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const subject = classes[i % classes.length];
    if (!mixed || i % 2 === 0) return sampleScene(rng, { subject });
    const target = { valence: rng.uniform(-3, 3), arousal: rng.uniform(-3, 3) };
    return sampleSceneForEmotion(target, rng, { subject, candidates: 64 });
  });
}

/** For each class, `perTarget` scenes drawn for every point of the 5×5 emotion grid. */
function gridSpecs(perTarget: number, seed: number): SceneSpec[] {
  const rng = new SeededRandom(seed);
  const specs: SceneSpec[] = [];
  for (let r = 0; r < perTarget; r++) {
    for (const target of emotionGrid()) {
      for (const subject of classes)
        specs.push(sampleSceneForEmotion(target, rng, { subject, candidates: 64 }));
    }
  }
  return specs;
}

function renderSet(specs: readonly SceneSpec[], size: number): LabelledSet {
  const labels = Int32Array.from(specs, (s) => classes.indexOf(s.subject));
  return { images: specs.map((s) => renderScene(s, { size })), labels };
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

/** Confusion counts `[true][predicted]` of the classifier on a labelled set. */
async function confusion(params: Record<string, tf.Tensor>, set: LabelledSet): Promise<number[][]> {
  const { images, labels } = set;
  const counts = classes.map(() => classes.map(() => 0));
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
      (counts[labels[i + k] as number] as number[])[v] =
        ((counts[labels[i + k] as number] as number[])[v] as number) + 1;
    });
  }
  return counts;
}

function accuracyOf(counts: number[][]): number {
  let correct = 0;
  let total = 0;
  counts.forEach((row, i) => {
    row.forEach((c, j) => {
      total += c;
      if (i === j) correct += c;
    });
  });
  return correct / total;
}

/** Per-class recall and the most frequent confusions, one line each. */
function confusionSummary(counts: number[][], top = 5): string[] {
  const recall = counts.map(
    (row, i) => `${classes[i]} ${((100 * (row[i] as number)) / row.reduce((a, b) => a + b, 0)).toFixed(0)}%`,
  );
  const errors: [number, string][] = [];
  counts.forEach((row, i) => {
    row.forEach((c, j) => {
      if (i !== j && c > 0) errors.push([c, `${classes[i]}→${classes[j]} ${c}`]);
    });
  });
  errors.sort((a, b) => b[0] - a[0]);
  return [
    `recall: ${recall.join(', ')}`,
    `top confusions (true→predicted): ${
      errors
        .slice(0, top)
        .map((e) => e[1])
        .join(', ') || 'none'
    }`,
  ];
}

async function main(): Promise<void> {
  const backend = await ready({ device: 'wasm' });
  log('backend', backend.backend, 'train', TRAIN, 'steps', STEPS, 'seed', SEED);
  let t = Date.now();
  const train = renderSet(sampleSpecs(TRAIN, SEED * 1000 + 1, true), S);
  log(`rendered ${TRAIN} training scenes in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const heldN = HELD_OUT_PER_CLASS * classes.length;
  const heldSpecs = sampleSpecs(heldN, SEED * 1000 + 2, false);
  const held32 = renderSet(heldSpecs, 32);
  const held64 = renderSet(heldSpecs, 64);
  const heldGrid = renderSet(gridSpecs(GRID_PER_TARGET, SEED * 1000 + 3), 32);
  log(`rendered ${heldN} held-out scenes at 32 and 64 px and ${heldGrid.images.length} emotion-grid scenes`);

  const rng = new SeededRandom(SEED);
  const params = initContentParams(classes.length, rng.fork());
  const lr0 = 2e-3;
  const warmup = Math.min(50, Math.floor(STEPS / 10));
  const optimizer = tf.train.adam(lr0);
  // tfjs keeps the learning rate protected; the schedule sets it between steps.
  const schedule = optimizer as unknown as { learningRate: number };
  const xs = new Float32Array(BATCH * PIXELS);
  const ys = new Int32Array(BATCH);
  let avg = 0;
  t = Date.now();
  for (let step = 0; step < STEPS; step++) {
    // Linear warm-up, then cosine decay to 1e-4 over the fixed number of steps.
    const progress = step / STEPS;
    schedule.learningRate =
      step < warmup
        ? (lr0 * (step + 1)) / warmup
        : 1e-4 + 0.5 * (lr0 - 1e-4) * (1 + Math.cos(Math.PI * progress));
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
    if ((step + 1) % 100 === 0) {
      log(
        `step ${step + 1}/${STEPS} loss ${avg.toFixed(4)} lr ${schedule.learningRate.toExponential(2)} (${((Date.now() - t) / (step + 1)).toFixed(0)} ms/step)`,
      );
    }
  }
  optimizer.dispose();
  const conf32 = await confusion(params, held32);
  const conf64 = await confusion(params, held64);
  const confGrid = await confusion(params, heldGrid);
  const acc32 = accuracyOf(conf32);
  const acc64 = accuracyOf(conf64);
  const accGrid = accuracyOf(confGrid);
  log(
    `final after ${STEPS} steps: held-out accuracy 32 px ${acc32.toFixed(4)}, 64 px ${acc64.toFixed(4)}, emotion grid ${accGrid.toFixed(4)}, chance ${(1 / classes.length).toFixed(4)}`,
  );
  const summary32 = confusionSummary(conf32);
  const summaryGrid = confusionSummary(confGrid);
  log(`32 px ${summary32.join('; ')}`);
  log(`emotion grid ${summaryGrid.join('; ')}`);
  log(
    `confusion (32 px, rows true, columns predicted, order ${classes.join(' ')}):\n${conf32.map((r) => r.join(' ')).join('\n')}`,
  );

  const weights = await encodeContentWeights(params, classes);
  tf.dispose(Object.values(params));
  const outIndex = process.argv.indexOf('--out');
  const out =
    outIndex >= 0 && process.argv[outIndex + 1]
      ? resolve(process.argv[outIndex + 1] as string)
      : fileURLToPath(new URL('../packages/core/src/content/weights.generated.ts', import.meta.url));
  const header = [
    '// Generated by training/train-content-classifier.ts; do not edit.',
    `// ${TRAIN} rendered training scenes, ${STEPS} steps of batch ${BATCH}, seed ${SEED}.`,
    `// Held-out accuracy on ${heldN} fresh scenes: ${(acc32 * 100).toFixed(1)}% at 32 px, ${(acc64 * 100).toFixed(1)}% at 64 px;`,
    `// on ${heldGrid.images.length} scenes drawn for the 5×5 emotion grid: ${(accGrid * 100).toFixed(1)}% (chance ${(100 / classes.length).toFixed(1)}%).`,
    ...summary32.map((line) => `// 32 px ${line}.`),
    ...summaryGrid.map((line) => `// Emotion grid ${line}.`),
  ].join('\n');
  writeFileSync(
    out,
    `${header}\nimport type { ContentWeights } from './model.js';\n\n/** Trained weights of the shipped content classifier. */\nexport const CONTENT_WEIGHTS: ContentWeights = ${JSON.stringify(weights)};\n\n/** Held-out accuracy of these weights on fresh rendered scenes. */\nexport const CONTENT_WEIGHTS_ACCURACY = ${JSON.stringify({ size32: Number(acc32.toFixed(4)), size64: Number(acc64.toFixed(4)), heldOut: heldN, emotionGrid: Number(accGrid.toFixed(4)), emotionGridScenes: heldGrid.images.length, chance: Number((1 / classes.length).toFixed(4)) })};\n`,
  );
  log(`wrote ${out} (${(weights.data.length / 1024).toFixed(0)} KB of base64; format it with biome)`);
}

await main();
