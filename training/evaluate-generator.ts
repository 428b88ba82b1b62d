/**
 * Measures the EmoFlow generator's emotion and text control before any RL, and writes the
 * results into `docs/generator.md` (between the `eval:start` / `eval:end` markers) and
 * `runs/generator-eval/results.json`.
 *
 * Emotion control: every prompt × every point of the 5×5 grid {-3, -1.5, 0, 1.5, 3}², one
 * image each; the independent JUDGE (`createLocalJudge`, not the reward model) reads valence and
 * arousal; reported per axis: Spearman ρ between target and reading and the slope of the reading
 * against the target, each with its 95% interval, and V-Error / A-Error (mean absolute error on
 * [-3, 3], which a compressed reading can keep small).
 * Text control: the content classifier's recognition of each image's subject vs chance, next to
 * its recognition of rendered scenes drawn for the same targets (what the classifier can do on
 * the training distribution), and the prompt effect: how much changing only the prompt (same
 * seed, same emotion) changes the image, relative to changing only the seed.
 *
 * Run from `training/`: `npx tsx evaluate-generator.ts [--checkpoint <folder>] [--guidance 1,2]`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createContentClassifier,
  createEmbeddedGenerator,
  type EmoFlowGenerator,
  type Emotion,
  emotionGrid,
  loadGenerator,
  type RgbImage,
  ready,
  renderScene,
  SCENE_SETTINGS,
  SCENE_SUBJECTS,
  type SceneSubject,
  SeededRandom,
  sampleSceneForEmotion,
} from '@emofeedback/core';
import {
  createLocalEvaluator,
  createLocalJudge,
  type EmotionEvaluator,
  formatInterval,
  type Interval,
  slopeInterval,
  spearmanInterval,
} from '@emofeedback/reward';
import { folderCheckpointReader } from '../packages/node/src/files/checkpoint-folder.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

const STEPS = Number(arg('steps', '10'));
const GUIDANCE = arg('guidance', '1,2').split(',').map(Number);
const N_PROMPTS = Number(arg('prompts', '26'));
const SEED = Number(arg('seed', '7'));
const REF_PER_TARGET = Number(arg('reference-per-target', '8'));

/** Content-only prompts: each subject in a few settings (the mood must come from the emotion input). */
function evaluationPrompts(n: number): { prompt: string; subject: SceneSubject }[] {
  const rng = new SeededRandom(SEED);
  const out: { prompt: string; subject: SceneSubject }[] = [];
  for (let i = 0; i < n; i++) {
    const subject = SCENE_SUBJECTS[i % SCENE_SUBJECTS.length] as SceneSubject;
    const setting = rng.choice(SCENE_SETTINGS);
    const prep =
      setting === 'sea' || setting === 'beach' ? 'on the' : setting === 'mountains' ? 'in the' : 'in a';
    out.push({ prompt: `a ${subject} ${prep} ${setting}`, subject });
  }
  return out;
}

/** ρ between target and reading and the slope of the reading against the target, with 95% intervals. */
function agreement(
  targets: readonly number[],
  readings: readonly number[],
): { rho: Interval; slope: Interval } {
  return { rho: spearmanInterval(readings, targets), slope: slopeInterval(readings, targets) };
}

interface Result {
  guidance: number;
  images: number;
  judge: string;
  valence: { rho: Interval; slope: Interval; mae: number; meanByTarget: number[] };
  arousal: { rho: Interval; slope: Interval; mae: number; meanByTarget: number[] };
  reward?: { valence: { rho: Interval; slope: Interval }; arousal: { rho: Interval; slope: Interval } };
  failures: number;
  content?: {
    accuracy: number;
    chance: number;
    classifier: string;
    /** Share of the images given the classifier's most frequent answer, and that answer. */
    topPrediction: { subject: string; share: number };
  };
  /** Mean |Δpixel| between prompts (same seed and emotion) divided by that between seeds. */
  promptEffect?: {
    prompts: number;
    seeds: number;
    betweenPrompts: number;
    betweenSeeds: number;
    ratio: number;
  };
  seconds: number;
}

async function score(evaluator: EmotionEvaluator, images: RgbImage[]): Promise<(Emotion | null)[]> {
  const out: (Emotion | null)[] = [];
  for (let i = 0; i < images.length; i += 50) {
    const part = await evaluator.evaluate(images.slice(i, i + 50));
    for (const e of part) out.push(e.ok ? { valence: e.valence, arousal: e.arousal } : null);
  }
  return out;
}

function meanAbsDiff(a: RgbImage, b: RgbImage): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += Math.abs((a.data[i] as number) - (b.data[i] as number));
  return s / a.data.length;
}

/**
 * Prompt effect: every subject's content-only prompt with the same `seeds` at the neutral
 * emotion. Returns the mean pixel difference between two prompts at one seed, the mean between
 * two seeds at one prompt, and their ratio (0: the prompt changes nothing; about 1: as much as
 * the noise does).
 */
async function promptEffect(
  generator: EmoFlowGenerator,
  guidance: number,
  seeds: number,
): Promise<NonNullable<Result['promptEffect']>> {
  const rows: RgbImage[][] = [];
  for (const subject of SCENE_SUBJECTS) {
    rows.push(
      await generator.generate(
        {
          prompts: Array.from({ length: seeds }, () => `a ${subject} in a meadow`),
          emotions: Array.from({ length: seeds }, () => ({ valence: 0, arousal: 0 })),
          seeds: Array.from({ length: seeds }, (_, k) => 500_000 + k),
        },
        { steps: STEPS, guidanceScale: guidance },
      ),
    );
  }
  let prompt = 0;
  let np = 0;
  let seed = 0;
  let ns = 0;
  for (let i = 0; i < rows.length; i++) {
    for (let k = 0; k < seeds; k++) {
      for (let j = i + 1; j < rows.length; j++) {
        prompt += meanAbsDiff(rows[i]![k]!, rows[j]![k]!);
        np++;
      }
      for (let l = k + 1; l < seeds; l++) {
        seed += meanAbsDiff(rows[i]![k]!, rows[i]![l]!);
        ns++;
      }
    }
  }
  const betweenPrompts = prompt / np;
  const betweenSeeds = seed / ns;
  return { prompts: rows.length, seeds, betweenPrompts, betweenSeeds, ratio: betweenPrompts / betweenSeeds };
}

async function main(): Promise<void> {
  await ready({ device: 'wasm' });
  const ckpt = process.argv.indexOf('--checkpoint');
  const generator: EmoFlowGenerator =
    ckpt >= 0
      ? await loadGenerator(folderCheckpointReader(resolve(process.argv[ckpt + 1] as string)))
      : await createEmbeddedGenerator();
  console.log(`generator ${generator.id}: ${generator.model.parameterCount} parameters`);
  const judge = await createLocalJudge();
  let reward: EmotionEvaluator | null = null;
  try {
    reward = await createLocalEvaluator();
  } catch (error) {
    console.log(`reward evaluator unavailable: ${(error as Error).message}`);
  }
  const classifier = createContentClassifier();
  const grid = emotionGrid();
  const prompts = evaluationPrompts(N_PROMPTS);
  const levels = [-3, -1.5, 0, 1.5, 3];
  // Reference: the training distribution itself. Scenes drawn for each grid target, rendered at
  // the generator's size, read by the same judge: how far the judge agrees with the scene labels.
  const refRng = new SeededRandom(SEED + 1);
  const refTargets: Emotion[] = [];
  const refImages: RgbImage[] = [];
  const refSubjects: SceneSubject[] = [];
  for (let r = 0; r < REF_PER_TARGET; r++) {
    for (const e of grid) {
      refTargets.push(e);
      const spec = sampleSceneForEmotion(e, refRng);
      refSubjects.push(spec.subject);
      refImages.push(renderScene(spec, { size: generator.config.imageSize }));
    }
  }
  const refPredictions = await classifier.classify(refImages);
  const refContent = refPredictions.filter((p, i) => p.subject === refSubjects[i]).length / refImages.length;
  const refReadings = await score(judge, refImages);
  const refOk = refReadings
    .map((r, i) => [r, refTargets[i]!] as const)
    .filter((x): x is readonly [Emotion, Emotion] => x[0] !== null);
  const reference = {
    images: refOk.length,
    valence: agreement(
      refOk.map((x) => x[1].valence),
      refOk.map((x) => x[0].valence),
    ),
    arousal: agreement(
      refOk.map((x) => x[1].arousal),
      refOk.map((x) => x[0].arousal),
    ),
    valenceMae: refOk.reduce((s, x) => s + Math.abs(x[0].valence - x[1].valence), 0) / refOk.length,
    arousalMae: refOk.reduce((s, x) => s + Math.abs(x[0].arousal - x[1].arousal), 0) / refOk.length,
    content: { accuracy: refContent, images: refImages.length },
  };
  console.log(`reference (rendered training scenes): ${JSON.stringify(reference)}`);
  if (process.argv.includes('--reference-only')) return;
  const results: Result[] = [];
  for (const guidance of GUIDANCE) {
    const started = Date.now();
    const images: RgbImage[] = [];
    const targets: Emotion[] = [];
    const subjects: SceneSubject[] = [];
    for (const [pi, p] of prompts.entries()) {
      const batch = await generator.generate(
        { prompts: grid.map(() => p.prompt), emotions: grid, seeds: grid.map((_, gi) => 1000 * pi + gi) },
        { steps: STEPS, guidanceScale: guidance },
      );
      images.push(...batch);
      targets.push(...grid);
      subjects.push(...grid.map(() => p.subject));
    }
    const readings = await score(judge, images);
    const ok = readings
      .map((r, i) => [r, targets[i]!] as const)
      .filter((x): x is readonly [Emotion, Emotion] => x[0] !== null);
    const axis = (k: 'valence' | 'arousal') => {
      const { rho, slope } = agreement(
        ok.map((x) => x[1][k]),
        ok.map((x) => x[0][k]),
      );
      const mae = ok.reduce((s, x) => s + Math.abs(x[0][k] - x[1][k]), 0) / ok.length;
      const meanByTarget = levels.map((l) => {
        const sel = ok.filter((x) => x[1][k] === l);
        return sel.reduce((s, x) => s + x[0][k], 0) / Math.max(1, sel.length);
      });
      return { rho, slope, mae, meanByTarget };
    };
    const result: Result = {
      guidance,
      images: images.length,
      judge: judge.id,
      valence: axis('valence'),
      arousal: axis('arousal'),
      failures: readings.length - ok.length,
      seconds: 0,
    };
    if (reward) {
      const rr = await score(reward, images);
      const pairs = rr
        .map((r, i) => [r, targets[i]!] as const)
        .filter((x): x is readonly [Emotion, Emotion] => x[0] !== null);
      result.reward = {
        valence: agreement(
          pairs.map((x) => x[1].valence),
          pairs.map((x) => x[0].valence),
        ),
        arousal: agreement(
          pairs.map((x) => x[1].arousal),
          pairs.map((x) => x[0].arousal),
        ),
      };
    }
    const predictions = await classifier.classify(images);
    const correct = predictions.filter((p, i) => p.subject === subjects[i]).length;
    const counts = new Map<string, number>();
    for (const p of predictions) counts.set(p.subject, (counts.get(p.subject) ?? 0) + 1);
    const [topSubject, topCount] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
    result.content = {
      accuracy: correct / images.length,
      chance: 1 / classifier.subjects.length,
      classifier: 'createContentClassifier()',
      topPrediction: { subject: topSubject, share: topCount / images.length },
    };
    result.promptEffect = await promptEffect(generator, guidance, 8);
    result.seconds = Math.round((Date.now() - started) / 1000);
    results.push(result);
    console.log(JSON.stringify(result));
  }
  await mkdir(join(ROOT, 'runs/generator-eval'), { recursive: true });
  await writeFile(
    join(ROOT, 'runs/generator-eval/results.json'),
    JSON.stringify({ generator: generator.id, prompts, reference, results }, null, 1),
  );
  const fmt = (x: number) => x.toFixed(3);
  const fi = (x: Interval) => formatInterval(x);
  const table = [
    `Generator \`${generator.id}\`, ${prompts.length} content-only prompts × 25 grid targets, ${STEPS} Euler steps, judge \`${results[0]?.judge}\`. ρ: Spearman between target and reading; slope: reading against target (1 = follows the target in full); brackets: 95% intervals.`,
    '',
    '| guidance | images | valence ρ | valence slope | arousal ρ | arousal slope | V-Error | A-Error | reward-model ρ V / A | subject recognised (chance) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.guidance} | ${r.images - r.failures} | ${fi(r.valence.rho)} | ${fi(r.valence.slope)} | ${fi(r.arousal.rho)} | ${fi(r.arousal.slope)} | ${fmt(r.valence.mae)} | ${fmt(r.arousal.mae)} | ${r.reward ? `${fi(r.reward.valence.rho)} / ${fi(r.reward.arousal.rho)}` : 'n/a'} | ${r.content ? `${(100 * r.content.accuracy).toFixed(1)}% (${(100 * r.content.chance).toFixed(1)}%)` : 'n/a'} |`,
    ),
    `| reference: rendered training scenes for the same targets | ${reference.images} | ${fi(reference.valence.rho)} | ${fi(reference.valence.slope)} | ${fi(reference.arousal.rho)} | ${fi(reference.arousal.slope)} | ${fmt(reference.valenceMae)} | ${fmt(reference.arousalMae)} | | ${(100 * reference.content.accuracy).toFixed(1)}% (${(100 / SCENE_SUBJECTS.length).toFixed(1)}%) |`,
    '',
    'Text control (content classifier, `createContentClassifier()`; rows above: share of images whose subject it names correctly):',
    '',
    ...results.map(
      (r) =>
        `- guidance ${r.guidance}: ${r.content ? `${(100 * r.content.accuracy).toFixed(1)}% of ${r.images} generated images (chance ${(100 * r.content.chance).toFixed(1)}%); most frequent answer ${r.content.topPrediction.subject} (${(100 * r.content.topPrediction.share).toFixed(0)}% of images)` : 'n/a'}${r.promptEffect ? `; prompt effect ${r.promptEffect.ratio.toFixed(3)} (mean |Δpixel| ${r.promptEffect.betweenPrompts.toFixed(4)} between the ${r.promptEffect.prompts} subjects' prompts at one seed vs ${r.promptEffect.betweenSeeds.toFixed(4)} between ${r.promptEffect.seeds} seeds at one prompt)` : ''}`,
    ),
    `- rendered scenes for the same targets: ${(100 * reference.content.accuracy).toFixed(1)}% of ${reference.content.images}`,
    '',
    'Mean judged value per target level (-3, -1.5, 0, 1.5, 3):',
    '',
    ...results.map(
      (r) =>
        `- guidance ${r.guidance}: valence ${r.valence.meanByTarget.map(fmt).join(', ')}; arousal ${r.arousal.meanByTarget.map(fmt).join(', ')}`,
    ),
  ].join('\n');
  console.log(table);
  const docPath = join(ROOT, 'docs/generator.md');
  const doc = await readFile(docPath, 'utf8').catch(() => '');
  const start = '<!-- eval:start -->';
  const end = '<!-- eval:end -->';
  if (doc.includes(start) && doc.includes(end)) {
    await writeFile(
      docPath,
      `${doc.slice(0, doc.indexOf(start) + start.length)}\n${table}\n${doc.slice(doc.indexOf(end))}`,
    );
    console.log(`updated ${docPath}`);
  }
  generator.dispose();
  judge.dispose?.();
  reward?.dispose?.();
}

await main();
