// Measures the effect of each descriptor phrase on the evaluator's valence and arousal through
// the shipped generator, at the centre and the four corners of V-A space (a phrase's effect
// depends on what the emotion input already puts in the image), and writes the local prompt
// critic's default lexicon.
//   cd training && npx tsx measure-descriptors.ts
import { writeFileSync } from 'node:fs';
import { createEmbeddedGenerator, type Emotion, ready } from '@emofeedback/core';
import { createLocalEvaluator } from '@emofeedback/reward';

// The first phrase of each light, weather and palette entry of the scene captions the generator
// was trained on (packages/core/src/scenes/describe.ts), so the generator knows every word.
const CANDIDATES: { phrase: string; group: string }[] = [
  { phrase: 'in bright daylight', group: 'light' },
  { phrase: 'at golden hour', group: 'light' },
  { phrase: 'at dusk', group: 'light' },
  { phrase: 'at night', group: 'light' },
  { phrase: 'under harsh flickering light', group: 'light' },
  { phrase: 'clear skies', group: 'weather' },
  { phrase: 'heavy rain', group: 'weather' },
  { phrase: 'thick fog', group: 'weather' },
  { phrase: 'falling snow', group: 'weather' },
  { phrase: 'a thunderstorm with lightning', group: 'weather' },
  { phrase: 'warm colours', group: 'palette' },
  { phrase: 'cool blue tones', group: 'palette' },
  { phrase: 'soft pastel colours', group: 'palette' },
  { phrase: 'vivid saturated colours', group: 'palette' },
  { phrase: 'cold grey colours', group: 'palette' },
  { phrase: 'dark muted tones', group: 'palette' },
];

// Held apart from the feedback evaluation's prompts (training/evaluate-feedback.ts).
const PROMPTS = [
  'a dog in a green meadow',
  'a spider in a dense forest',
  'a house in a big city',
  'a boat on the open sea',
  'a flower on a sandy beach',
  'a skull in a barren wasteland',
  'a tree in the snowy mountains',
  'a snake in the dry desert',
  'a cat in a quiet meadow',
  'a fire in a deep forest',
];
// The conditionings each effect is measured at; the critic interpolates between them.
const TARGETS: Emotion[] = [
  { valence: 0, arousal: 0 },
  { valence: 3, arousal: 3 },
  { valence: -3, arousal: 3 },
  { valence: 3, arousal: -3 },
  { valence: -3, arousal: -3 },
];
const SEEDS = [101, 202, 303];

await ready({ device: 'wasm' });
const generator = await createEmbeddedGenerator();
const evaluator = await createLocalEvaluator();

const cells = PROMPTS.flatMap((prompt) =>
  TARGETS.flatMap((target) => SEEDS.map((seed) => ({ prompt, target, seed }))),
);

async function readings(suffix: string): Promise<Emotion[]> {
  const out: Emotion[] = [];
  for (let i = 0; i < cells.length; i += 25) {
    const chunk = cells.slice(i, i + 25);
    const images = await generator.generate({
      prompts: chunk.map((c) => (suffix ? `${c.prompt}, ${suffix}` : c.prompt)),
      emotions: chunk.map((c) => c.target),
      seeds: chunk.map((c) => c.seed),
    });
    for (const e of await evaluator.evaluate(images)) {
      if (!e.ok) throw new Error(`the local evaluator failed: ${e.message}`);
      out.push({ valence: e.valence, arousal: e.arousal });
    }
  }
  return out;
}

const started = Date.now();
const base = await readings('');
const lexicon: {
  phrase: string;
  group: string;
  valence: number;
  arousal: number;
  valenceSe: number;
  arousalSe: number;
  at: { conditioning: Emotion; valence: number; arousal: number }[];
}[] = [];
for (const c of CANDIDATES) {
  const with_ = await readings(c.phrase);
  const dv = with_.map((e, i) => e.valence - (base[i] as Emotion).valence);
  const da = with_.map((e, i) => e.arousal - (base[i] as Emotion).arousal);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const se = (xs: number[]) => {
    const m = mean(xs);
    return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1) / xs.length);
  };
  const at = TARGETS.map((conditioning) => {
    const idx = cells.flatMap((cell, i) => (cell.target === conditioning ? [i] : []));
    return {
      conditioning,
      valence: mean(idx.map((i) => dv[i] as number)),
      arousal: mean(idx.map((i) => da[i] as number)),
    };
  });
  const entry = { ...c, valence: mean(dv), arousal: mean(da), valenceSe: se(dv), arousalSe: se(da), at };
  lexicon.push(entry);
  console.log(
    `${c.phrase.padEnd(32)} valence ${entry.valence.toFixed(3)} ± ${entry.valenceSe.toFixed(3)}   arousal ${entry.arousal.toFixed(3)} ± ${entry.arousalSe.toFixed(3)}   by conditioning ${at.map((a) => `(${a.valence.toFixed(2)}, ${a.arousal.toFixed(2)})`).join(' ')}`,
  );
}
const round = (x: number) => Math.round(x * 1000) / 1000;
const body = lexicon
  .map(
    (e) =>
      `  {\n    phrase: '${e.phrase}',\n    group: '${e.group}',\n    valence: ${round(e.valence)},\n    arousal: ${round(e.arousal)},\n    at: [\n${e.at.map((a) => `      { conditioning: { valence: ${a.conditioning.valence}, arousal: ${a.conditioning.arousal} }, valence: ${round(a.valence)}, arousal: ${round(a.arousal)} },`).join('\n')}\n    ],\n  },`,
  )
  .join('\n');
writeFileSync(
  new URL('../packages/feedback/src/lexicon.generated.ts', import.meta.url),
  `// Generated by training/measure-descriptors.ts: do not edit by hand.
// Effect of appending each phrase to a prompt on the local evaluator's mean reading through the
// shipped generator (${generator.id}), paired over ${PROMPTS.length} prompts × ${TARGETS.length} conditionings × ${SEEDS.length} seeds
// (${cells.length} images per phrase), canonical scale; \`at\` holds the effect at each conditioning.
import type { DescriptorEffect } from './local-critic.js';

/** The measured descriptor lexicon of the local prompt critic. */
export const DEFAULT_LEXICON: readonly DescriptorEffect[] = [
${body}
];

/** What the lexicon was measured with. */
export const DEFAULT_LEXICON_SOURCE = ${JSON.stringify({ generator: generator.id, evaluator: evaluator.id, imagesPerPhrase: cells.length })} as const;
`,
);
console.log(
  `wrote the lexicon (${lexicon.length} phrases) in ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
process.exit(0);
