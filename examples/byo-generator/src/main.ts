// Bring your own generator: implement `Generator` from @emofeedback/core (here `SkyGenerator`, a
// procedural painter standing for your model), then use everything else unchanged:
// 1. measure how well it follows the target emotion with the independent local judge, against
//    the same generator with the emotion ignored;
// 2. refine a prompt with the textual-feedback loop (local evaluator as the scorer, local critic).
//   pnpm start             3 prompts × 3×3 targets × 2 seeds, then 3 rounds × 8 images
//   pnpm smoke             1 prompt, 2 seeds, then 2 rounds × 4 images
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Device, type Emotion, emotionGrid, type Generator, imageGrid } from '@emofeedback/core';
import { createLocalCritic, runFeedbackLoop } from '@emofeedback/feedback';
import { encodePng, readyNode } from '@emofeedback/node';
import {
  axisMetrics,
  createLocalEvaluator,
  createLocalJudge,
  type EmotionEvaluator,
} from '@emofeedback/reward';
import { SkyGenerator } from './sky-generator.js';

const smoke = process.argv.includes('--smoke');
const out = process.env.EMOFEEDBACK_OUT ?? join('runs', smoke ? 'byo-generator-smoke' : 'byo-generator');
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

const { device } = await readyNode({ device: (process.env.EMOFEEDBACK_DEVICE ?? 'auto') as Device });
const generator: Generator = new SkyGenerator({ size: 64 });
const judge = await createLocalJudge();
console.log(`device ${device}; generator ${generator.id}; judge ${judge.id}`);

// 1. Does the generator follow the emotion? Judge readings against the targets.
const prompts = smoke
  ? ['a lake in the mountains']
  : ['a lake in the mountains', 'a house by the sea', 'a road in a field'];
const targets = emotionGrid([-2, 0, 2]);
const seeds = smoke ? [1, 2] : [1, 2];
const pairs = prompts.flatMap((prompt) =>
  targets.flatMap((target) => seeds.map((seed) => ({ prompt, target, seed }))),
);

async function measure(
  label: string,
  conditioning: (target: Emotion) => Emotion,
  judgeWith: EmotionEvaluator,
) {
  const images = await generator.generate({
    prompts: pairs.map((p) => p.prompt),
    emotions: pairs.map((p) => conditioning(p.target)),
    seeds: pairs.map((p) => p.seed),
  });
  const readings = await judgeWith.evaluate(images);
  const ok = readings.flatMap((r, i) => (r.ok ? [{ reading: r, target: pairs[i]!.target }] : []));
  const valence = axisMetrics(
    ok.map((o) => o.reading.valence),
    ok.map((o) => o.target.valence),
  );
  const arousal = axisMetrics(
    ok.map((o) => o.reading.arousal),
    ok.map((o) => o.target.arousal),
  );
  console.log(
    `${label}: judged V-Error ${valence.mae.toFixed(3)} (r ${valence.pearson.toFixed(2)}), A-Error ${arousal.mae.toFixed(3)} (r ${arousal.pearson.toFixed(2)}) over ${ok.length} images (${elapsed()})`,
  );
  return { images, valence, arousal, scored: ok.length };
}

const conditioned = await measure('emotion-conditioned', (t) => t, judge);
const neutral = await measure('emotion ignored     ', () => ({ valence: 0, arousal: 0 }), judge);
judge.dispose();

// 2. The textual-feedback loop with the same generator.
const evaluator = await createLocalEvaluator();
const target: Emotion = { valence: 2.5, arousal: -1.5 };
const trace = await runFeedbackLoop({
  generator,
  evaluator,
  critic: createLocalCritic(),
  prompt: 'a lake in the mountains',
  target,
  rounds: smoke ? 2 : 3,
  imagesPerRound: smoke ? 4 : 8,
  seed: 0,
});
for (const r of trace.rounds)
  console.log(`round ${r.round}: «${r.prompt}» best distance ${r.best?.distance.toFixed(3) ?? 'none'}`);
evaluator.dispose();

await mkdir(out, { recursive: true });
// One row per target (3×3 grid, valence rows, arousal columns), first prompt and seed.
const firstPrompt = conditioned.images.filter(
  (_, i) => pairs[i]!.prompt === prompts[0] && pairs[i]!.seed === 1,
);
await writeFile(join(out, 'grid.png'), encodePng(imageGrid(firstPrompt, { columns: 3, scale: 2 })));
if (trace.best) await writeFile(join(out, 'refined-best.png'), encodePng(trace.best.image));
const summary = {
  device,
  generator: generator.id,
  images: pairs.length,
  conditioned: { valence: conditioned.valence, arousal: conditioned.arousal },
  emotionIgnored: { valence: neutral.valence, arousal: neutral.arousal },
  refine: {
    target,
    rounds: trace.rounds.map((r) => ({ prompt: r.prompt, bestDistance: r.best?.distance ?? null })),
    bestPrompt: trace.best?.prompt ?? null,
    bestDistance: trace.best?.distance ?? null,
  },
  seconds: (Date.now() - started) / 1000,
};
await writeFile(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
console.log(`wrote ${out}/ (grid.png, refined-best.png, summary.json); total ${elapsed()}`);
if (!trace.best || conditioned.scored === 0) process.exitCode = 1;
