/**
 * Pretrains the EmoFlow generator that ships inside `@emofeedback/core`.
 *
 * Data: procedural scenes (the core scene renderer; captions from `describeScene` or a short
 * content-only caption, labels from `sceneEmotion` or, with `--scene-labels reward`, from the
 * reward model's reading of the rendered scene) mixed with the human-rated photos and
 * silhouettes in `../shared/data` (OASIS, BASS) downscaled to the model size, captioned from
 * their metadata. Loss: rectified flow with 10% prompt and 10% emotion dropout (for guidance).
 * Every random draw comes from `--seed`, so a given step count reproduces the same weights.
 *
 * Writes checkpoints (EMA weights, float16) to `runs/generator-pretrain/iter-N/` and the
 * embedded module `packages/core/src/weights/emoflow.generated.ts`.
 *
 * Run from `training/`: `npx tsx pretrain-generator.ts [--steps N] [--minutes 38]`.
 * The shipped `emoflow-32@3` is three stages: stage 1 from scratch (`--steps 1629`, seed 2025,
 * which gives `emoflow-32@1` in `runs/generator-pretrain/final`); a continuation of it on fresh
 * scenes with the gradients on two worker threads (`--init-from runs/generator-pretrain/final
 * --model-id emoflow-32@2 --seed 2026 --steps 4608 --workers 2 --out runs/generator-continue`);
 * and a continuation on scenes labelled by the reward model (`--init-from
 * runs/generator-continue/final --model-id emoflow-32@3 --seed 2027 --steps 2000 --workers 2
 * --scene-labels reward --out runs/generator-relabel`).
 * `--embed-from <folder> [--default-guidance g]` only rewrites the embedded module from a saved
 * checkpoint (optionally with another default guidance scale).
 */
import { rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildVocabulary,
  type CheckpointFiles,
  clampEmotion,
  createEmoFlowGenerator,
  describeScene,
  type EmoFlowGenerator,
  type Emotion,
  encodeCheckpoint,
  FlowMatchingTrainer,
  loadGenerator,
  MANIFEST_FILE,
  readManifest,
  ready,
  renderScene,
  type SceneSpec,
  SeededRandom,
  SUBJECT_PLURALS,
  sampleScene,
  sampleSceneForEmotion,
  sceneEmotion,
  tf,
} from '@emofeedback/core';
import { ParallelSampler, parallelFlowMatchingStep } from '@emofeedback/node';
import { createLocalEvaluator } from '@emofeedback/reward';
// Direct imports keep this script independent of the rest of the Node package's entry point.
import {
  folderCheckpointReader,
  writeCheckpointFolder,
} from '../packages/node/src/files/checkpoint-folder.js';
import { loadRatedDataset } from '../packages/node/src/files/rated-dataset.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = resolve(ROOT, '../shared/data');
const EMBED_PATH = join(ROOT, 'packages/core/src/weights/emoflow.generated.ts');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

const SEED = Number(arg('seed', '2025'));
// 0: choose the step count from the measured speed after 20 steps so training fits the time
// budget (the count is logged and stored; pass it back with --steps to reproduce the run exactly).
let STEPS = Number(arg('steps', '0'));
const WARMUP = 100;
const BATCH = Number(arg('batch', '16'));
const POOL = Number(arg('pool', '8000'));
const MINUTES = Number(arg('minutes', '36'));
const LR = Number(arg('lr', '1e-3'));
const REAL_FRACTION = Number(arg('real-fraction', '0.15'));
const SAVE_EVERY = Number(arg('save-every', '200'));
const OUT = resolve(ROOT, arg('out', 'runs/generator-pretrain'));
const MODEL_ID = arg('model-id', 'emoflow-32@1');
// Continue from a saved checkpoint folder (relative to the repository root; its weights and
// vocabulary) instead of a fresh network.
const INIT_FROM = arg('init-from', '');
// Gradients on worker threads, one per core (same weights as one thread, to float rounding).
const WORKERS = Number(arg('workers', '1'));
// Scene labels: `designed` (sceneEmotion) or `reward` (the shipped reward model's reading of each
// rendered scene, rescaled to the designed labels' mean and spread; see relabelWithReward).
const SCENE_LABELS = arg('scene-labels', 'designed');
if (SCENE_LABELS !== 'designed' && SCENE_LABELS !== 'reward')
  throw new Error(`--scene-labels must be designed or reward, got ${SCENE_LABELS}`);
const SIZE = 32;
const MAX_TOKENS = 24;

interface Item {
  readonly image: Float32Array;
  readonly captions: readonly string[];
  readonly emotion: Emotion;
  readonly source: 'scene' | 'oasis' | 'bass';
}

const COUNT_WORDS = ['', 'a', 'two', 'three'];

/** A content-only caption ("two dogs on the sea"): the mood has to come from the emotion input. */
export function shortCaption(spec: SceneSpec): string {
  const subject = spec.count > 1 ? SUBJECT_PLURALS[spec.subject] : spec.subject;
  const count = COUNT_WORDS[spec.count] ?? 'a';
  const prep =
    spec.setting === 'sea' || spec.setting === 'beach'
      ? 'on the'
      : spec.setting === 'mountains'
        ? 'in the'
        : 'in a';
  return `${count} ${subject} ${prep} ${spec.setting}`;
}

function clipWords(text: string, max = MAX_TOKENS): string {
  return text.split(/\s+/).filter(Boolean).slice(0, max).join(' ');
}

function buildScenes(rng: SeededRandom, n: number): Item[] {
  const items: Item[] = [];
  for (let i = 0; i < n; i++) {
    // Half free samples, half drawn for a uniform target so every corner of V-A space is covered.
    const spec =
      i % 2 === 0
        ? sampleScene(rng)
        : sampleSceneForEmotion({ valence: rng.uniform(-3, 3), arousal: rng.uniform(-3, 3) }, rng, {
            candidates: 64,
          });
    const image = renderScene(spec, { size: SIZE }).data;
    items.push({
      image,
      captions: [clipWords(describeScene(spec, rng)), shortCaption(spec)],
      emotion: sceneEmotion(spec),
      source: 'scene',
    });
  }
  return items;
}

/**
 * Replaces the scenes' designed labels with the reward model's reading of the rendered image.
 * The designed labels follow published norms attribute by attribute, but models trained on real
 * rated photos read the rendered scenes differently (on 400 free scenes, the judge's valence
 * correlates 0.05 with the designed label and 0.24 with the reward model's reading). The readings
 * span a narrow range (sd about 0.4), so each axis is standardised and given the designed labels'
 * mean and spread over the same pool, clipped to [-3, 3]: the reward model's order, the labels'
 * scale.
 */
async function relabelWithReward(scenes: Item[]): Promise<{ evaluator: string; items: Item[] }> {
  const evaluator = await createLocalEvaluator();
  const readings: Emotion[] = [];
  const chunk = 250;
  for (let i = 0; i < scenes.length; i += chunk) {
    const images = scenes.slice(i, i + chunk).map((s) => ({ width: SIZE, height: SIZE, data: s.image }));
    for (const e of await evaluator.evaluate(images)) {
      if (!e.ok) throw new Error(`the reward model could not read a scene: ${e.message}`);
      readings.push({ valence: e.valence, arousal: e.arousal });
    }
    if ((i / chunk) % 8 === 0)
      console.log(`relabelled ${Math.min(i + chunk, scenes.length)}/${scenes.length} scenes`);
  }
  evaluator.dispose?.();
  const stats = (xs: number[]) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    return { mean, sd: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length) };
  };
  const rescale = (axis: 'valence' | 'arousal') => {
    const from = stats(readings.map((r) => r[axis]));
    const to = stats(scenes.map((s) => s.emotion[axis]));
    console.log(
      `${axis}: readings mean ${from.mean.toFixed(3)} sd ${from.sd.toFixed(3)} -> designed mean ${to.mean.toFixed(3)} sd ${to.sd.toFixed(3)}`,
    );
    return (x: number) => to.mean + ((x - from.mean) / from.sd) * to.sd;
  };
  const v = rescale('valence');
  const a = rescale('arousal');
  const items = scenes.map((s, i) => ({
    ...s,
    emotion: clampEmotion({ valence: v(readings[i]!.valence), arousal: a(readings[i]!.arousal) }),
  }));
  return { evaluator: evaluator.id, items };
}

async function buildReal(): Promise<Item[]> {
  const items: Item[] = [];
  const oasis = await loadRatedDataset(join(DATA, 'oasis-train'), {
    scale: 'likert7',
    resize: { width: SIZE, height: SIZE },
  });
  for (const r of oasis.items) {
    const theme = (r.row.theme ?? '').replace(/\d+/g, ' ').trim().toLowerCase() || 'something';
    items.push({
      image: r.image.data,
      captions: [
        clipWords(`a photo of ${theme}`),
        clipWords(`a ${(r.row.category ?? 'photo').toLowerCase()} photo of ${theme}`),
      ],
      emotion: { valence: r.valence, arousal: r.arousal },
      source: 'oasis',
    });
  }
  const bass = await loadRatedDataset(join(DATA, 'bass'), {
    scale: 'sam9',
    resize: { width: SIZE, height: SIZE },
  });
  for (const r of bass.items) {
    const words = (r.row.keywords ?? '')
      .split(',')
      .map((w) => w.trim())
      .filter(Boolean);
    items.push({
      image: r.image.data,
      captions: [
        clipWords(`a silhouette of ${words.slice(0, 3).join(' ') || 'a figure'}`),
        clipWords(`a black silhouette drawing of ${words[0] ?? 'a figure'}`),
      ],
      emotion: { valence: r.valence, arousal: r.arousal },
      source: 'bass',
    });
  }
  return items;
}

/** Replaces the embedded module atomically, so a reader never sees half a file. */
async function writeEmbedded(files: CheckpointFiles): Promise<void> {
  const tmp = `${EMBED_PATH}.tmp`;
  await writeFile(tmp, embeddedModuleSource(files));
  await rename(tmp, EMBED_PATH);
}

function embeddedModuleSource(files: CheckpointFiles): string {
  const manifest = new TextDecoder().decode(files[MANIFEST_FILE]);
  const weights = Buffer.from(files['weights.bin'] as Uint8Array).toString('base64');
  return `// Generated by training/pretrain-generator.ts from a pretraining checkpoint; do not edit.
// The EmoFlow base weights (float16) and their manifest, embedded so the generator works offline.
export const EMOFLOW_WEIGHTS = {
  id: ${JSON.stringify(MODEL_ID)},
  manifest: ${JSON.stringify(manifest)},
  weights: '${weights}',
} as const;
`;
}

/** Exponential moving average of the base weights (what is shipped). */
class Ema {
  readonly shadow = new Map<string, tf.Variable>();
  constructor(private readonly generator: EmoFlowGenerator) {
    for (const [name, v] of generator.model.weights.variables)
      this.shadow.set(name, tf.variable(v.clone(), false));
  }

  update(step: number, maxDecay = 0.999): void {
    const decay = Math.min(maxDecay, (1 + step) / (10 + step));
    tf.tidy(() => {
      for (const [name, v] of this.generator.model.weights.variables) {
        const s = this.shadow.get(name) as tf.Variable;
        s.assign(tf.add(tf.mul(s, decay), tf.mul(v, 1 - decay)));
      }
    });
  }

  /** Runs `fn` with the EMA weights swapped in. */
  with<T>(fn: () => T): T {
    const saved = new Map<string, tf.Tensor>();
    for (const [name, v] of this.generator.model.weights.variables) {
      saved.set(name, v.clone());
      v.assign(this.shadow.get(name) as tf.Variable);
    }
    try {
      return fn();
    } finally {
      for (const [name, v] of this.generator.model.weights.variables) v.assign(saved.get(name) as tf.Tensor);
      tf.dispose([...saved.values()]);
    }
  }
}

async function embedFrom(folder: string): Promise<void> {
  const read = folderCheckpointReader(folder);
  let manifest = await read(MANIFEST_FILE);
  const guidance = process.argv.indexOf('--default-guidance');
  if (guidance >= 0) {
    // Sampling defaults live in the manifest (not covered by the weights' hash).
    const m = JSON.parse(new TextDecoder().decode(manifest));
    m.sampling = { ...m.sampling, guidanceScale: Number(process.argv[guidance + 1]) };
    manifest = new TextEncoder().encode(JSON.stringify(m, null, 1));
  }
  const files: CheckpointFiles = { [MANIFEST_FILE]: manifest, 'weights.bin': await read('weights.bin') };
  await writeEmbedded(files);
  console.log(`embedded ${folder} into ${EMBED_PATH}`);
}

/** A new network whose vocabulary comes from the training captions. */
function freshGenerator(captions: readonly string[]): EmoFlowGenerator {
  return createEmoFlowGenerator(
    {
      seed: SEED,
      text: {
        vocabulary: buildVocabulary(captions, { maxSize: 1500 }),
        maxTokens: MAX_TOKENS,
        hashBuckets: 128,
      },
    },
    { id: MODEL_ID },
  );
}

async function main(): Promise<void> {
  const from = process.argv.indexOf('--embed-from');
  if (from >= 0) return embedFrom(resolve(process.argv[from + 1] as string));
  const started = Date.now();
  const backend = await ready({ device: 'wasm' });
  console.log(`backend: ${backend.reason}`);
  const rng = new SeededRandom(SEED);
  const designedScenes = buildScenes(rng.fork(), POOL);
  const relabelled = SCENE_LABELS === 'reward' ? await relabelWithReward(designedScenes) : null;
  const scenes = relabelled?.items ?? designedScenes;
  const real = await buildReal();
  console.log(
    `data: ${scenes.length} scenes, ${real.length} rated images (${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );
  const initRead = INIT_FROM ? folderCheckpointReader(resolve(ROOT, INIT_FROM)) : null;
  // The parent's model id (from its metadata), recorded in this run's metadata.
  const parent = initRead ? String((await readManifest(initRead)).metadata?.model ?? INIT_FROM) : null;
  const generator = initRead
    ? await loadGenerator(initRead, { id: MODEL_ID })
    : freshGenerator([...scenes, ...real].flatMap((i) => i.captions));
  console.log(
    `model: ${generator.model.parameterCount} parameters, vocabulary ${generator.config.text.vocabulary.length} words${parent ? `, continued from ${parent}` : ''}`,
  );
  // Uniform times (not SD3's logit-normal): the prompt and the emotion mostly decide the image
  // near t = 1, where logit-normal puts little weight, and this run is short.
  const trainingOptions = { learningRate: LR, timeSampling: 'uniform' } as const;
  const trainer = new FlowMatchingTrainer(generator, rng.fork(), trainingOptions);
  const sampler = WORKERS > 1 ? await ParallelSampler.create(generator, { workers: WORKERS }) : null;
  const ema = new Ema(generator);
  const batchRng = rng.fork();
  const pixels = SIZE * SIZE * 3;

  const save = async (step: number, final: boolean) => {
    const metadata = {
      model: MODEL_ID,
      step,
      plannedSteps: STEPS,
      batch: BATCH,
      seed: SEED,
      ...(parent ? { continuedFrom: parent } : {}),
      workers: WORKERS,
      data: {
        scenes: scenes.length,
        rated: real.length,
        realFraction: REAL_FRACTION,
        labels: relabelled
          ? `scenes: ${relabelled.evaluator} readings rescaled to the sceneEmotion mean and spread; photos: human ratings`
          : 'scenes: sceneEmotion; photos: human ratings',
      },
      trainingSeconds: Math.round((Date.now() - started) / 1000),
      ema: 0.999,
    };
    const files = ema.with(() => encodeCheckpoint(generator, { dtype: 'float16', metadata }));
    const folder = join(OUT, final ? 'final' : `iter-${String(step).padStart(6, '0')}`);
    await writeCheckpointFolder(folder, files);
    await writeEmbedded(files);
    console.log(`saved ${folder} (${files['weights.bin']!.length} bytes) and the embedded module`);
  };

  let window: number[] = [];
  let step = 0;
  const deadline = started + MINUTES * 60_000;
  const auto = STEPS <= 0;
  if (auto) STEPS = 100_000;
  let loopStart = Date.now();
  for (; step < STEPS; step++) {
    if (Date.now() > deadline) {
      console.log(`time budget of ${MINUTES} min reached at step ${step}`);
      break;
    }
    if (auto && step === 5) loopStart = Date.now();
    if (auto && step === 25) {
      const perStep = (Date.now() - loopStart) / 20;
      // Leave a margin for checkpoints and slower stretches of a shared machine.
      STEPS = Math.max(WARMUP + 50, Math.floor((0.95 * (deadline - Date.now())) / perStep) + step);
      console.log(
        `${perStep.toFixed(0)} ms per step: training for ${STEPS} steps (reproduce with --steps ${STEPS})`,
      );
    }
    // Linear warm-up, then a cosine decay to 10% (starting after warm-up, so the decay does not
    // depend on the step count during the first steps).
    const warm = Math.min(1, (step + 1) / WARMUP);
    const progress = step < WARMUP ? 0 : (step - WARMUP) / Math.max(1, STEPS - WARMUP);
    const cosine = 0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress));
    trainer.setLearningRate(LR * warm * cosine);
    const data = new Float32Array(BATCH * pixels);
    const prompts: string[] = [];
    const emotions: Emotion[] = [];
    for (let b = 0; b < BATCH; b++) {
      const item = batchRng.uniform() < REAL_FRACTION ? batchRng.choice(real) : batchRng.choice(scenes);
      prompts.push(batchRng.choice(item.captions));
      emotions.push(item.emotion);
      const flip = batchRng.uniform() < 0.5;
      const off = b * pixels;
      if (!flip) data.set(item.image, off);
      else {
        for (let y = 0; y < SIZE; y++) {
          for (let x = 0; x < SIZE; x++) {
            const src = (y * SIZE + (SIZE - 1 - x)) * 3;
            const dst = off + (y * SIZE + x) * 3;
            data[dst] = item.image[src] as number;
            data[dst + 1] = item.image[src + 1] as number;
            data[dst + 2] = item.image[src + 2] as number;
          }
        }
      }
    }
    const images = tf.tensor4d(data, [BATCH, SIZE, SIZE, 3]);
    const batch = { images, prompts, emotions };
    const loss = sampler
      ? await parallelFlowMatchingStep(trainer, sampler, batch, trainingOptions)
      : trainer.step(batch);
    images.dispose();
    ema.update(step);
    window.push(loss);
    if ((step + 1) % 25 === 0) {
      const elapsed = (Date.now() - started) / 1000;
      const mean = window.reduce((a, b) => a + b, 0) / window.length;
      window = [];
      console.log(
        `step ${step + 1}/${STEPS} loss ${mean.toFixed(4)} lr ${(LR * warm * cosine).toExponential(2)} elapsed ${elapsed.toFixed(0)} s tensors ${tf.memory().numTensors}`,
      );
    }
    if ((step + 1) % SAVE_EVERY === 0) await save(step + 1, false);
  }
  await save(step, true);
  await sampler?.dispose();
  console.log(`done: ${step} steps in ${((Date.now() - started) / 60000).toFixed(1)} min`);
}

await main();
