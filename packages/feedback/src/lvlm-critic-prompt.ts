import type { Emotion } from '@emofeedback/core';
import type { Candidate, CritiqueInput } from './critic.js';

/**
 * One image the LVLM critic shows the model, with why it was picked.
 */
export interface CriticImage {
  readonly candidate: Candidate;
  /** `best` / `worst` by distance to the target; `unscored` when no image of the round could be scored. */
  readonly role: 'best' | 'worst' | 'unscored';
  /** 1-based rank of the image by distance among the round's scored images (1 = closest). */
  readonly rank: number;
}

/** Everything a {@link CriticMessageBuilder} gets to write the user message. */
export interface CriticPromptContext {
  /** The critic's input, as the feedback loop passed it. */
  readonly input: CritiqueInput;
  /** The images that go out, in the order they are picked (best first, then worst). */
  readonly images: readonly CriticImage[];
  /** How many of the round's images were scored, and how many there were. */
  readonly scored: number;
  readonly total: number;
  /** Mean reading over the round's scored images, or null when none was scored. */
  readonly meanReading: Emotion | null;
  /** The user's content words the refined prompt must keep (see {@link contentWords}). */
  readonly subjectWords: readonly string[];
  /** Longest refined prompt accepted, in characters. */
  readonly maxPromptChars: number;
}

/**
 * A part of the critic's user message: text, or the `image`-th entry of
 * {@link CriticPromptContext.images} (sent inline as a PNG).
 */
export type CriticMessagePart =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'image'; readonly image: number };

/**
 * Writes the user message of a critique. Return parts to place the images yourself, or a string:
 * the text is then followed by every picked image, each after a one-line caption.
 */
export type CriticMessageBuilder = (context: CriticPromptContext) => string | readonly CriticMessagePart[];

/**
 * Writes the follow-up message sent when a refined prompt drops words of the user's subject
 * (the critic's `subjectGuard: 'reask'`).
 */
export type SubjectReminderBuilder = (missing: readonly string[], context: CriticPromptContext) => string;

/** The default system message of the LVLM critic. */
export const DEFAULT_CRITIC_SYSTEM = [
  'You are an expert prompt engineer for text-to-image models and a careful judge of the emotions images evoke.',
  'You look at generated images together with their measured valence and arousal, explain what keeps them from the target emotion, and rewrite the prompt so the next images get closer.',
  'You always answer with a single JSON object.',
].join(' ');

const sign = (x: number) => (x >= 0 ? `+${x.toFixed(2)}` : x.toFixed(2));

/** `valence +1.20, arousal -0.40`: the form every number takes in the default message. */
export function formatEmotion(e: Emotion): string {
  return `valence ${sign(e.valence)}, arousal ${sign(e.arousal)}`;
}

function direction(from: Emotion, to: Emotion): string {
  const dv = to.valence - from.valence;
  const da = to.arousal - from.arousal;
  const parts: string[] = [];
  if (Math.abs(dv) >= 0.25)
    parts.push(dv > 0 ? `more pleasant (${sign(dv)})` : `less pleasant (${sign(dv)})`);
  if (Math.abs(da) >= 0.25) parts.push(da > 0 ? `more exciting (${sign(da)})` : `calmer (${sign(da)})`);
  return parts.length === 0
    ? 'The mean reading is already close to the target.'
    : `To reach the target the images must become ${parts.join(' and ')}.`;
}

/** The one-line caption the default message puts before an image. */
export function captionImage(image: CriticImage, index: number, context: CriticPromptContext): string {
  const c = image.candidate;
  const head = `Image ${index + 1}`;
  if (image.role === 'unscored' || !c.evaluation.ok) {
    return `${head} (seed ${c.seed}): reading unavailable (${c.evaluation.ok ? 'not scored' : c.evaluation.failure}).`;
  }
  return `${head} (${image.role}, rank ${image.rank} of ${context.scored}, seed ${c.seed}): reading: ${formatEmotion(c.evaluation)}; distance ${c.distance.toFixed(2)}.`;
}

/**
 * The default user message. It states the target, the user's prompt, the prompt of the round,
 * the earlier rounds, the round's mean reading and each shown image's reading (before the image),
 * then asks for the JSON answer. For a round of `a cat on a meadow` aiming at (+2.5, +1) it reads:
 *
 * ```text
 * Target emotion: valence +2.50, arousal +1.00.
 * Valence and arousal are on a scale from -3 to +3: valence -3 is very unpleasant, +3 very pleasant;
 * arousal -3 is very calm, +3 very exciting. Distance is the Euclidean distance in the valence-arousal plane.
 * User prompt: "a cat on a meadow"
 * Prompt of round 1: "a cat on a meadow"
 * Earlier rounds: none.
 * This round: 8 images, 8 scored; mean reading: valence +0.44, arousal -0.53; best distance 2.15.
 * To reach the target the images must become more pleasant (+2.06) and more exciting (+1.53).
 * The images below are the 4 closest to the target and the 2 farthest, each after its reading.
 * Image 1 (best, rank 1 of 8, seed 1001): reading: valence +0.88, arousal -0.41; distance 2.15.
 * [image]
 * …
 * Explain briefly what in these images misses the target emotion (subject, expression, colours, light, weather, composition), …
 * Rules for the refined prompt:
 * - keep the user's subject: it must contain the words cat, meadow;
 * - …
 * Reply with one JSON object and nothing else:
 * {"analysis": "<2-4 sentences>", "suggestions": ["<edit>", …], "refinedPrompt": "<the prompt for the next round>", "done": false}
 * ```
 */
export const defaultCriticMessage: CriticMessageBuilder = (context) => {
  const { input, images, meanReading } = context;
  const lines: string[] = [
    `Target emotion: ${formatEmotion(input.target)}.`,
    'Valence and arousal are on a scale from -3 to +3: valence -3 is very unpleasant, +3 very pleasant; arousal -3 is very calm, +3 very exciting. Distance is the Euclidean distance in the valence-arousal plane.',
    `User prompt: ${JSON.stringify(input.userPrompt)}`,
    `Prompt of round ${input.round + 1}: ${JSON.stringify(input.currentPrompt)}`,
  ];
  const earlier = input.history.filter((h) => h.round < input.round);
  if (earlier.length === 0) lines.push('Earlier rounds: none.');
  else {
    lines.push('Earlier rounds:');
    for (const h of earlier) {
      const reading = h.meanEmotion ? `mean reading ${formatEmotion(h.meanEmotion)}` : 'no image scored';
      const best = Number.isFinite(h.bestDistance)
        ? `best distance ${h.bestDistance.toFixed(2)}`
        : 'no best image';
      const said = h.critique ? ` Critique: ${h.critique.analysis.replace(/\s+/g, ' ').slice(0, 300)}` : '';
      lines.push(`- round ${h.round + 1}: ${JSON.stringify(h.prompt)}: ${reading}; ${best}.${said}`);
    }
  }
  const best = images.find((i) => i.role === 'best');
  lines.push(
    `This round: ${context.total} images, ${context.scored} scored; ` +
      (meanReading
        ? `mean reading: ${formatEmotion(meanReading)}; best distance ${best ? best.candidate.distance.toFixed(2) : 'n/a'}.`
        : 'no image could be scored.'),
  );
  if (meanReading) lines.push(direction(meanReading, input.target));
  const nBest = images.filter((i) => i.role === 'best').length;
  const nWorst = images.filter((i) => i.role === 'worst').length;
  lines.push(
    images.length === 0
      ? 'No image is shown.'
      : nBest + nWorst === 0
        ? `The images below are ${images.length} of the round, unscored.`
        : `The images below are the ${nBest} closest to the target${nWorst > 0 ? ` and the ${nWorst} farthest` : ''}, each after its reading.`,
  );
  const parts: CriticMessagePart[] = [{ type: 'text', text: lines.join('\n') }];
  images.forEach((image, i) => {
    parts.push({ type: 'text', text: captionImage(image, i, context) });
    parts.push({ type: 'image', image: i });
  });
  const rules = [
    'Explain briefly what in these images misses the target emotion (subject, expression, colours, light, weather, composition), propose concrete edits, and write the refined prompt for the next round.',
    'Rules for the refined prompt:',
    context.subjectWords.length > 0
      ? `- keep the user's subject: it must contain the words ${context.subjectWords.join(', ')};`
      : "- keep the user's subject;",
    `- one line of at most ${context.maxPromptChars} characters; describe what to show (no negations such as "no people");`,
    '- change what moves the emotion (light, colour, weather, setting, expression, mood words), not the subject.',
    'Set "done" to true only if the best image already shows the target emotion (distance below 0.3).',
    'Reply with one JSON object and nothing else:',
    '{"analysis": "<2-4 sentences>", "suggestions": ["<edit>", …], "refinedPrompt": "<the prompt for the next round>", "done": false}',
  ];
  parts.push({ type: 'text', text: rules.join('\n') });
  return parts;
};

/** The default follow-up when a refined prompt dropped subject words. */
export const defaultSubjectReminder: SubjectReminderBuilder = (missing, context) =>
  `Your refined prompt dropped words of the user's subject: ${missing.join(', ')}. ` +
  `The user asked for ${JSON.stringify(context.input.userPrompt)}. Rewrite the refined prompt so that it keeps every one of these words, ` +
  'and answer again with the same JSON object.';

/**
 * Function words ignored when the user's content words are extracted: articles, pronouns,
 * prepositions, conjunctions, auxiliaries and a few fillers. Everything else counts as content.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a an the this that these those some any each every all both either neither no not nor ' +
    'and or but so yet if then than as of in on at to from by with without within into onto upon over under ' +
    'above below between among through during before after behind beside besides near around about against ' +
    'along across toward towards off out up down via per like unlike ' +
    'i me my mine we us our ours you your yours he him his she her hers it its they them their theirs ' +
    'who whom whose which what where when why how there here ' +
    'is am are was were be been being do does did have has had having will would shall should can could may might must ' +
    'very really quite just also too more most less least much many few such own same other another ' +
    'image picture shot showing show shows depicting depiction featuring'
  ).split(' '),
);

/** Normalises a word for comparison: lower case, possessive and simple plural endings removed. */
export function normalizeWord(word: string): string {
  let w = word.toLowerCase().replace(/['’]s$/, '');
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
  else if (w.length > 4 && /(?:ss|x|z|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
  return w;
}

function words(text: string): string[] {
  return text.match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu) ?? [];
}

/**
 * The content words of a prompt (nouns, adjectives, verbs: every word that is not in
 * {@link STOP_WORDS} and not a single character), lower-cased, in order, without repeats.
 */
export function contentWords(prompt: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const word of words(prompt)) {
    const lower = word.toLowerCase().replace(/['’]s$/, '');
    if (lower.length < 2 || STOP_WORDS.has(lower) || /^\d+$/.test(lower)) continue;
    const key = normalizeWord(lower);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(lower);
  }
  return out;
}

/**
 * The `required` words that `prompt` lacks, compared after {@link normalizeWord} (so `cats`
 * keeps `cat`, `cities` keeps `city`).
 */
export function missingWords(required: readonly string[], prompt: string): string[] {
  const present = new Set(words(prompt).map(normalizeWord));
  return required.filter((w) => !present.has(normalizeWord(w)));
}
