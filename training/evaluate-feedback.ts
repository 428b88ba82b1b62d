// The feedback loop on the embedded default: shipped generator, local evaluator as scorer,
// local critic, and the independent judge for the figures. Compares the loop's best image with
// round 0's best and with best-of-N over the same seeds, and writes docs/feedback.md. It also
// judges every image, to say where a gap comes from: whether the rewritten prompts move the
// judged emotion (against the user's prompt at the same seeds), and whether the scorer's choice
// within a round agrees with the judge.
//   cd training && npx tsx evaluate-feedback.ts [--seed-sets 0,1000]
import { writeFileSync } from 'node:fs';
import {
  createEmbeddedGenerator,
  type Emotion,
  emotionErrors,
  type RgbImage,
  ready,
} from '@emofeedback/core';
import {
  bestOfN,
  type Candidate,
  createLocalCritic,
  loopSeeds,
  runFeedbackLoop,
} from '@emofeedback/feedback';
import {
  createLocalEvaluator,
  createLocalJudge,
  formatInterval,
  pearson,
  slopeInterval,
  spearmanInterval,
} from '@emofeedback/reward';

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
// Each pair runs once per seed set (loop seed = set + pair index): two independent replicates.
const SEED_SETS = (
  process.argv.includes('--seed-sets')
    ? (process.argv[process.argv.indexOf('--seed-sets') + 1] ?? '')
    : '0,1000'
)
  .split(',')
  .map(Number);
if (SEED_SETS.some((s) => !Number.isInteger(s) || s < 0))
  throw new Error('--seed-sets takes comma-separated non-negative integers, e.g. 0,1000');

await ready({ device: 'wasm' });
const generator = await createEmbeddedGenerator();
const scorer = await createLocalEvaluator();
const judge = await createLocalJudge();
const critic = createLocalCritic();

/** The judge's reading of each image and its V-A error against the target. */
interface Judged {
  readonly reading: Emotion;
  readonly error: number;
}
async function judgedAll(images: readonly RgbImage[], target: Emotion): Promise<Judged[]> {
  return (await judge.evaluate(images)).map((e) => {
    if (!e.ok) throw new Error('the judge failed');
    const errors = emotionErrors(e, target);
    return {
      reading: { valence: e.valence, arousal: e.arousal },
      error: (errors.valence + errors.arousal) / 2,
    };
  });
}
async function judged(image: RgbImage, target: Emotion): Promise<Judged> {
  return (await judgedAll([image], target))[0] as Judged;
}
const errorsOf = (js: readonly Judged[]) => js.map((j) => j.error);
const average = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
// Diagnostics: judged error of every rewritten round minus the user's prompt at the same seeds,
// and the correlation of scorer distance with judged error inside each round.
const rewriteShifts: number[] = [];
const withinRound: number[] = [];

const rows: {
  set: number;
  seed: number;
  prompt: string;
  target: Emotion;
  loop: number;
  round0: number;
  bestOfN: number;
  readings: Record<'loop' | 'round0' | 'bestOfN', Emotion>;
  final: string;
}[] = [];
const started = Date.now();
const runs = SEED_SETS.flatMap((set) => PAIRS.map((pair, i) => ({ set, pair, seed: set + i })));
for (const [i, { set, pair, seed }] of runs.entries()) {
  const trace = await runFeedbackLoop({
    generator,
    evaluator: scorer,
    critic,
    ...pair,
    rounds: ROUNDS,
    imagesPerRound: PER_ROUND,
    seed,
  });
  const baseline = await bestOfN({
    generator,
    evaluator: scorer,
    ...pair,
    rounds: ROUNDS,
    imagesPerRound: PER_ROUND,
    seed,
  });
  const seeds = loopSeeds(seed, ROUNDS, PER_ROUND);
  // Every image of the loop judged once; the kept ones are looked up here.
  const judgedOf = new Map<Candidate, Judged>();
  for (const r of trace.rounds) {
    const loopJudged = await judgedAll(
      r.candidates.map((c) => c.image),
      pair.target,
    );
    for (const [k, c] of r.candidates.entries()) judgedOf.set(c, loopJudged[k] as Judged);
    // Undefined (NaN) when a round's distances or judgements are all equal: left out.
    const r2 = pearson(
      r.candidates.map((c) => c.distance),
      errorsOf(loopJudged),
    );
    if (Number.isFinite(r2)) withinRound.push(r2);
    if (r.round === 0) continue;
    const roundSeeds = seeds[r.round] as number[];
    const plain = await generator.generate({
      prompts: roundSeeds.map(() => pair.prompt),
      emotions: roundSeeds.map(() => pair.target),
      seeds: roundSeeds,
    });
    rewriteShifts.push(
      average(errorsOf(loopJudged)) - average(errorsOf(await judgedAll(plain, pair.target))),
    );
  }
  const round0 = trace.rounds[0]?.best;
  if (!trace.best || !round0 || !baseline) throw new Error('no scored image');
  const kept = {
    loop: judgedOf.get(trace.best) as Judged,
    round0: judgedOf.get(round0) as Judged,
    bestOfN: await judged(baseline.image, pair.target),
  };
  const row = {
    set,
    seed,
    ...pair,
    loop: kept.loop.error,
    round0: kept.round0.error,
    bestOfN: kept.bestOfN.error,
    readings: { loop: kept.loop.reading, round0: kept.round0.reading, bestOfN: kept.bestOfN.reading },
    final: trace.best.prompt,
  };
  rows.push(row);
  console.log(
    `${String(i).padStart(2)} seed ${String(seed).padStart(4)} ${pair.prompt.padEnd(34)} (${pair.target.valence}, ${pair.target.arousal})  loop ${row.loop.toFixed(3)}  round0 ${row.round0.toFixed(3)}  best-of-N ${row.bestOfN.toFixed(3)}  «${row.final}»`,
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
const perSet = SEED_SETS.map((set) => {
  const own = rows.filter((r) => r.set === set);
  return {
    set,
    round0: stats(own.map((r) => r.round0 - r.loop)),
    bestOfN: stats(own.map((r) => r.bestOfN - r.loop)),
  };
});
// How the kept images' judged readings follow the targets across runs (an error alone can hide
// a reading that does not move).
const methods = [
  ['round0', "round 0's best"],
  ['bestOfN', 'best-of-N'],
  ['loop', 'feedback loop'],
] as const;
const agreementRows = methods.map(([k, label]) => {
  const cell = (axis: 'valence' | 'arousal') => {
    const read = rows.map((r) => r.readings[k][axis]);
    const want = rows.map((r) => r.target[axis]);
    return `${formatInterval(spearmanInterval(read, want))} | ${formatInterval(slopeInterval(read, want))}`;
  };
  return `| ${label} | ${cell('valence')} | ${cell('arousal')} |`;
});
const agreementTable = [
  '| method | valence ρ | valence slope | arousal ρ | arousal slope |',
  '|---|---|---|---|---|',
  ...agreementRows,
].join('\n');
console.log(agreementTable);
const seconds = ((Date.now() - started) / 1000).toFixed(0);
const shift = stats(rewriteShifts);
const agreement = stats(withinRound);
const diagnostics = `- Rewritten rounds against the user's prompt at the same seeds (${shift.n} rounds): mean judged error of all 8 images changes by ${shift.mean.toFixed(3)} (sd ${shift.sd.toFixed(3)}, 95% CI [${shift.lo.toFixed(3)}, ${shift.hi.toFixed(3)}]; negative is closer to the target).
- Inside a round, the correlation between the scorer's distance and the judged error averages ${agreement.mean.toFixed(3)} (sd ${agreement.sd.toFixed(3)}, ${agreement.n} rounds): how far picking by the scorer picks what the judge prefers.`;
console.log(diagnostics);
const fmt = (s: ReturnType<typeof stats>) =>
  `${s.mean.toFixed(3)} (sd ${s.sd.toFixed(3)}, 95% CI [${s.lo.toFixed(3)}, ${s.hi.toFixed(3)}], loop better in ${s.wins}/${s.n})`;
console.log(
  `judged V-A error: loop ${mean('loop').toFixed(3)}, round 0 ${mean('round0').toFixed(3)}, best-of-N ${mean('bestOfN').toFixed(3)}`,
);
console.log(`gain over round 0: ${fmt(vsRound0)}`);
console.log(`gain over best-of-N: ${fmt(vsBestOfN)}`);
const setLines = perSet
  .map(
    (p) =>
      `- Seed set ${p.set} (loop seeds ${p.set}–${p.set + PAIRS.length - 1}): gain over round 0 ${fmt(p.round0)}; over best-of-N ${fmt(p.bestOfN)}.`,
  )
  .join('\n');
console.log(setLines);

writeFileSync(
  new URL('../docs/feedback.md', import.meta.url),
  `# Self-promotion textual feedback: measured

The loop (\`runFeedbackLoop\`) on the embedded default: the shipped generator (\`${generator.id}\`), the local
evaluator (\`${scorer.id}\`) as the scorer that picks the best image and informs the critic, the local critic
(\`${critic.id}\`, descriptor lexicon measured by \`training/measure-descriptors.ts\`), and the independent judge
(\`${judge.id}\`) for every figure below. ${PAIRS.length} fixed (prompt, target) pairs, including the corners of the
valence-arousal square, each run with ${SEED_SETS.length} independent seed sets (${rows.length} runs); ${ROUNDS} rounds × ${PER_ROUND} images per run.
Best-of-N draws the same ${ROUNDS * PER_ROUND} images per run from the user's prompt with the same seeds.

Judged V-A error = (|judged valence − target| + |judged arousal − target|) / 2 of the image each method keeps.

| method | mean judged V-A error |
|---|---|
| round 0's best (first 8 images) | ${mean('round0').toFixed(3)} |
| best-of-N (${ROUNDS * PER_ROUND} images, same seeds) | ${mean('bestOfN').toFixed(3)} |
| feedback loop's best over all rounds | ${mean('loop').toFixed(3)} |

Across the ${rows.length} runs, how the judged reading of the kept image follows the target (Spearman ρ between
target and reading, slope of reading against target; 95% intervals):

${agreementTable}

- Gain of the loop over round 0: ${fmt(vsRound0)}.
- Gain of the loop over best-of-N: ${fmt(vsBestOfN)}.

${setLines}

Where the gaps come from (every image judged):

${diagnostics}

Reproduce: \`cd training && npx tsx evaluate-feedback.ts\` (${seconds} s here on 2 CPU cores, wasm backend).

| loop seed | prompt | target (V, A) | loop | round 0 | best-of-N | prompt of the loop's best |
|---|---|---|---|---|---|---|
${rows.map((r) => `| ${r.seed} | ${r.prompt} | ${r.target.valence}, ${r.target.arousal} | ${r.loop.toFixed(3)} | ${r.round0.toFixed(3)} | ${r.bestOfN.toFixed(3)} | ${r.final} |`).join('\n')}
`,
);
process.exit(0);
