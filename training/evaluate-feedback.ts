// The feedback loop on the embedded default: shipped generator, local evaluator as scorer,
// local critic, and the independent judge for the figures. Compares the loop's best image with
// round 0's best and with best-of-N over the same seeds, and writes docs/feedback.md.
//   cd training && npx tsx evaluate-feedback.ts
import { writeFileSync } from 'node:fs';
import { createEmbeddedGenerator, type Emotion, type RgbImage, ready } from '@emofeedback/core';
import { bestOfN, createLocalCritic, runFeedbackLoop } from '@emofeedback/feedback';
import { createLocalEvaluator, createLocalJudge } from '@emofeedback/reward';

const PAIRS: { prompt: string; target: Emotion }[] = [
  { prompt: 'a dog on a wide beach', target: { valence: 3, arousal: 3 } },
  { prompt: 'a dog on a wide beach', target: { valence: -3, arousal: -3 } },
  { prompt: 'a spider in a pine forest', target: { valence: -3, arousal: 3 } },
  { prompt: 'a spider in a pine forest', target: { valence: 3, arousal: -3 } },
  { prompt: 'a flower in a grassy meadow', target: { valence: 3, arousal: -3 } },
  { prompt: 'a flower in a grassy meadow', target: { valence: -3, arousal: 3 } },
  { prompt: 'a house in a busy city', target: { valence: -1.5, arousal: 1.5 } },
  { prompt: 'a house in a busy city', target: { valence: 1.5, arousal: -1.5 } },
  { prompt: 'a boat on the calm sea', target: { valence: 0, arousal: 3 } },
  { prompt: 'a boat on the calm sea', target: { valence: 0, arousal: -3 } },
  { prompt: 'a skull in a desolate wasteland', target: { valence: 3, arousal: 0 } },
  { prompt: 'a skull in a desolate wasteland', target: { valence: -3, arousal: 0 } },
  { prompt: 'a tree in the high mountains', target: { valence: 1.5, arousal: 1.5 } },
  { prompt: 'a tree in the high mountains', target: { valence: -1.5, arousal: -1.5 } },
  { prompt: 'a snake in the endless desert', target: { valence: 3, arousal: 3 } },
  { prompt: 'a snake in the endless desert', target: { valence: -3, arousal: -3 } },
  { prompt: 'a cat in a quiet meadow', target: { valence: -3, arousal: 3 } },
  { prompt: 'a cat in a quiet meadow', target: { valence: 3, arousal: -3 } },
  { prompt: 'a fire on a sandy beach', target: { valence: 3, arousal: -1.5 } },
  { prompt: 'a fire on a sandy beach', target: { valence: -1.5, arousal: 3 } },
  { prompt: 'the sun over the open sea', target: { valence: -3, arousal: -3 } },
  { prompt: 'the sun over the open sea', target: { valence: 3, arousal: 3 } },
  { prompt: 'a heart in a modern city', target: { valence: -3, arousal: 1.5 } },
  { prompt: 'a heart in a modern city', target: { valence: 0, arousal: 0 } },
];
const ROUNDS = 3;
const PER_ROUND = 8;

await ready({ device: 'wasm' });
const generator = await createEmbeddedGenerator();
const scorer = await createLocalEvaluator();
const judge = await createLocalJudge();
const critic = createLocalCritic();

async function judged(image: RgbImage, target: Emotion): Promise<number> {
  const [e] = await judge.evaluate([image]);
  if (!e?.ok) throw new Error('the judge failed');
  return (Math.abs(e.valence - target.valence) + Math.abs(e.arousal - target.arousal)) / 2;
}

const rows: {
  prompt: string;
  target: Emotion;
  loop: number;
  round0: number;
  bestOfN: number;
  final: string;
}[] = [];
const started = Date.now();
for (const [i, pair] of PAIRS.entries()) {
  const trace = await runFeedbackLoop({
    generator,
    evaluator: scorer,
    critic,
    ...pair,
    rounds: ROUNDS,
    imagesPerRound: PER_ROUND,
    seed: i,
  });
  const baseline = await bestOfN({
    generator,
    evaluator: scorer,
    ...pair,
    rounds: ROUNDS,
    imagesPerRound: PER_ROUND,
    seed: i,
  });
  const round0 = trace.rounds[0]?.best;
  if (!trace.best || !round0 || !baseline) throw new Error('no scored image');
  const row = {
    ...pair,
    loop: await judged(trace.best.image, pair.target),
    round0: await judged(round0.image, pair.target),
    bestOfN: await judged(baseline.image, pair.target),
    final: trace.best.prompt,
  };
  rows.push(row);
  console.log(
    `${String(i).padStart(2)} ${pair.prompt.padEnd(34)} (${pair.target.valence}, ${pair.target.arousal})  loop ${row.loop.toFixed(3)}  round0 ${row.round0.toFixed(3)}  best-of-N ${row.bestOfN.toFixed(3)}  «${row.final}»`,
  );
}

function stats(xs: number[]) {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const se = sd / Math.sqrt(n);
  return { mean, sd, lo: mean - 1.96 * se, hi: mean + 1.96 * se, wins: xs.filter((x) => x > 0).length, n };
}
const mean = (k: 'loop' | 'round0' | 'bestOfN') => rows.reduce((s, r) => s + r[k], 0) / rows.length;
const vsRound0 = stats(rows.map((r) => r.round0 - r.loop));
const vsBestOfN = stats(rows.map((r) => r.bestOfN - r.loop));
const seconds = ((Date.now() - started) / 1000).toFixed(0);
const fmt = (s: ReturnType<typeof stats>) =>
  `${s.mean.toFixed(3)} (sd ${s.sd.toFixed(3)}, 95% CI [${s.lo.toFixed(3)}, ${s.hi.toFixed(3)}], loop better in ${s.wins}/${s.n})`;
console.log(
  `judged V-A error: loop ${mean('loop').toFixed(3)}, round 0 ${mean('round0').toFixed(3)}, best-of-N ${mean('bestOfN').toFixed(3)}`,
);
console.log(`gain over round 0: ${fmt(vsRound0)}`);
console.log(`gain over best-of-N: ${fmt(vsBestOfN)}`);

writeFileSync(
  new URL('../docs/feedback.md', import.meta.url),
  `# Self-promotion textual feedback: measured

The loop (\`runFeedbackLoop\`) on the embedded default: the shipped generator (\`${generator.id}\`), the local
evaluator (\`${scorer.id}\`) as the scorer that picks the best image and informs the critic, the local critic
(\`${critic.id}\`, descriptor lexicon measured by \`training/measure-descriptors.ts\`), and the independent judge
(\`${judge.id}\`) for every figure below. ${PAIRS.length} fixed (prompt, target) pairs, including the corners of the
valence-arousal square; ${ROUNDS} rounds × ${PER_ROUND} images per pair. Best-of-N draws the same
${ROUNDS * PER_ROUND} images per pair from the user's prompt with the same seeds.

Judged V-A error = (|judged valence − target| + |judged arousal − target|) / 2 of the image each method keeps.

| method | mean judged V-A error |
|---|---|
| round 0's best (first 8 images) | ${mean('round0').toFixed(3)} |
| best-of-N (${ROUNDS * PER_ROUND} images, same seeds) | ${mean('bestOfN').toFixed(3)} |
| feedback loop's best over all rounds | ${mean('loop').toFixed(3)} |

- Gain of the loop over round 0: ${fmt(vsRound0)}.
- Gain of the loop over best-of-N: ${fmt(vsBestOfN)}.

Reproduce: \`cd training && npx tsx evaluate-feedback.ts\` (${seconds} s here on 2 CPU cores, wasm backend).

| # | prompt | target (V, A) | loop | round 0 | best-of-N | prompt of the loop's best |
|---|---|---|---|---|---|---|
${rows.map((r, i) => `| ${i} | ${r.prompt} | ${r.target.valence}, ${r.target.arousal} | ${r.loop.toFixed(3)} | ${r.round0.toFixed(3)} | ${r.bestOfN.toFixed(3)} | ${r.final} |`).join('\n')}
`,
);
process.exit(0);
