// Quickstart: fine-tune the shipped generator's LoRA adapters with GRPO from the local
// evaluator's emotion reward (plus a quality reward), judge the result on held-out prompts with
// an independent evaluator, then refine one prompt with the textual-feedback loop.
//   pnpm quickstart            the full run (≤ 10 minutes on 2 CPU cores)
//   pnpm quickstart --smoke    a small configuration that checks every step in about a minute
//   --workers N                worker threads on the wasm backend (default: one per core; 1: none)
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedGenerator, type Emotion, imageGrid, type RgbImage } from '@emofeedback/core';
import { createLocalCritic } from '@emofeedback/feedback';
import {
  encodePng,
  ParallelSampler,
  parallelGrpoRunner,
  parallelLocalEvaluator,
  readyNode,
  withParallelSampling,
} from '@emofeedback/node';
import {
  createCompositeReward,
  createLocalEvaluator,
  createLocalJudge,
  qualityComponent,
} from '@emofeedback/reward';
import {
  DEFAULT_HELD_OUT_PROMPTS,
  DEFAULT_TRAINING_PROMPTS,
  defaultReward,
  EmoFeedbackTrainer,
  gridTargets,
  judgedErrors,
} from '@emofeedback/rl';

const smoke = process.argv.includes('--smoke');
const workersFlag = process.argv.indexOf('--workers');
const requestedWorkers = workersFlag >= 0 ? Number(process.argv[workersFlag + 1]) : availableParallelism();
if (!Number.isInteger(requestedWorkers) || requestedWorkers < 1) {
  console.error(`--workers: expected an integer ≥ 1, got ${process.argv[workersFlag + 1]}`);
  process.exit(2);
}
const out = process.env.EMOFEEDBACK_OUT ?? join('runs', smoke ? 'quickstart-smoke' : 'quickstart');
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

const { device, reason } = await readyNode({ device: 'auto' });
console.log(`device: ${device} (${reason})`);
const generator = await createEmbeddedGenerator({ lora: { rank: 4, seed: 1 } });
const evaluator = await createLocalEvaluator();
const judge = await createLocalJudge();
console.log(`generator ${generator.id}; reward evaluator ${evaluator.id}; judge ${judge.id}`);

// The wasm backend runs on one thread: sampling, judging and gradients are spread over worker
// threads, one per core (same results with any number of workers). The reward, which reads the
// evaluator's features for its quality term, stays on this thread.
const sampler =
  device === 'wasm' && requestedWorkers > 1
    ? await ParallelSampler.create(generator, { workers: requestedWorkers })
    : null;
console.log(sampler ? `${sampler.workers} worker threads` : 'no worker threads');
const judgeOnWorkers = sampler ? parallelLocalEvaluator(sampler, 'judge') : judge;

// RL trains on 10 prompts; the judge measures on 20 others × the 5×5 grid (500 images).
const heldOut = smoke ? DEFAULT_HELD_OUT_PROMPTS.slice(0, 2) : DEFAULT_HELD_OUT_PROMPTS;
const evaluation = gridTargets(heldOut);
const targets = gridTargets(DEFAULT_TRAINING_PROMPTS);

const trainer = new EmoFeedbackTrainer({
  generator: sampler ? withParallelSampling(generator, sampler) : generator,
  evaluator,
  judge: judgeOnWorkers,
  ...(sampler ? { runIteration: parallelGrpoRunner(generator, sampler) } : {}),
  reward: defaultReward(evaluator),
  critic: createLocalCritic(),
  targets,
  // Train with the guidance the generator samples with (its shipped default), so that what GRPO
  // improves is what users get.
  grpo: {
    guidanceScale: generator.sampling.guidanceScale,
    ...(smoke ? { groupsPerIteration: 2, groupSize: 4, stepsPerIteration: 1 } : {}),
  },
  seed: 0,
  onEvent: (e) => {
    if (e.type === 'iteration') {
      const m = e.metrics;
      console.log(
        `iteration ${e.iteration}: reward ${m.rewardMean.toFixed(3)} (${Object.entries(m.components)
          .map(([k, v]) => `${k} ${v.toFixed(3)}`)
          .join(
            ', ',
          )}), approx KL ${m.approxKl.toExponential(2)}, clip ${m.clipFraction.toFixed(2)}, ${elapsed()}`,
      );
    }
  },
});

const quality = createCompositeReward({ evaluator, components: [qualityComponent(evaluator)] });
// One set of 500 images per measurement (seeds 1000 + i, as trainer.judge uses), read by the judge
// for the errors and by the reward model for the quality term.
async function measure(label: string) {
  const images: RgbImage[] = [];
  await sampler?.sync();
  for (let i = 0; i < evaluation.length; i += 50) {
    const chunk = evaluation.slice(i, i + 50);
    images.push(
      ...(await (sampler ?? generator).generate({
        prompts: chunk.map((t) => t.prompt),
        emotions: chunk.map((t) => t.emotion),
        seeds: chunk.map((_, k) => 1000 + i + k),
      })),
    );
  }
  const judged = judgedErrors(
    await judgeOnWorkers.evaluate(images),
    evaluation.map((t) => t.emotion),
  );
  const q = await quality.compute(
    images,
    evaluation.map((t) => t.emotion),
  );
  const qualityMean = Array.from(q.total).reduce((s, v) => s + v, 0) / q.total.length;
  console.log(
    `${label}: judged V-Error ${judged.valenceError.toFixed(3)}, A-Error ${judged.arousalError.toFixed(3)}, mean ${judged.meanError.toFixed(3)}; quality ${qualityMean.toFixed(3)} (${elapsed()})`,
  );
  return { judged, quality: qualityMean, images };
}

await mkdir(out, { recursive: true });
const before = await measure('before RL');
const budgetMs = smoke ? 20_000 : 4.5 * 60_000;
const { iterations } = await trainer.train({
  iterations: smoke ? 2 : 400,
  signal: AbortSignal.timeout(budgetMs),
});
const after = await measure(`after ${iterations} GRPO iterations`);

// 5×5 grids of the first held-out prompts, before and after (rows: valence, columns: arousal).
for (const k of [0, 1]) {
  const slice = (imgs: RgbImage[]) => imgs.slice(k * 25, (k + 1) * 25);
  await writeFile(
    join(out, `grid-${k}-before.png`),
    encodePng(imageGrid(slice(before.images), { columns: 5, scale: 2 })),
  );
  await writeFile(
    join(out, `grid-${k}-after.png`),
    encodePng(imageGrid(slice(after.images), { columns: 5, scale: 2 })),
  );
}

const target: Emotion = { valence: -2.5, arousal: 2.5 };
const trace = await trainer.refine({
  prompt: 'a house in a big city',
  target,
  rounds: smoke ? 2 : 3,
  imagesPerRound: smoke ? 4 : 8,
  seed: 0,
});
for (const r of trace.rounds)
  console.log(`refine round ${r.round}: «${r.prompt}» best distance ${r.best?.distance.toFixed(3)}`);
if (trace.best) await writeFile(join(out, 'refined-best.png'), encodePng(trace.best.image));

const drop = (before.judged.meanError - after.judged.meanError) / before.judged.meanError;
const qualityChange = (after.quality - before.quality) / Math.abs(before.quality);
const summary = {
  device,
  workers: sampler?.workers ?? 0,
  iterations,
  before: { ...before.judged, quality: before.quality },
  after: { ...after.judged, quality: after.quality },
  judgedErrorReduction: drop,
  qualityChange,
  refine: {
    prompt: trace.userPrompt,
    target,
    bestPrompt: trace.best?.prompt,
    bestDistance: trace.best?.distance,
    stopReason: trace.stopReason,
  },
  seconds: (Date.now() - started) / 1000,
};
await writeFile(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
console.log(
  `judged error ${before.judged.meanError.toFixed(3)} → ${after.judged.meanError.toFixed(3)} (${(drop * 100).toFixed(1)}% lower); quality ${(qualityChange * 100).toFixed(1)}%`,
);
console.log(`wrote ${out}/ (grids, refined-best.png, summary.json); total ${elapsed()}`);
await sampler?.dispose();
process.exit(0);
