import {
  axisToCanonical,
  type EmotionScale,
  InvalidArgumentError,
  parseScale,
  scaleRange,
} from '@emofeedback/core';

/**
 * The rating scale the LVLM is asked to answer on, and how its answers map to the canonical
 * [-3, 3] scale.
 */
export interface LvlmRatingScale {
  /** Short name, e.g. `sam9`; goes into cache keys and the evaluator id. */
  readonly name: string;
  /** Lowest and highest allowed answer (inclusive). */
  readonly min: number;
  readonly max: number;
  /** How the prompt names the scale, e.g. `the 9-point Self-Assessment Manikin (SAM) scale`. */
  readonly description: string;
  /** Maps one answer in [min, max] to [-3, 3]. */
  toCanonical(value: number): number;
}

const SCALE_DESCRIPTIONS: Record<EmotionScale, string> = {
  sam9: 'the 9-point Self-Assessment Manikin (SAM) scale',
  likert7: 'a 7-point Likert scale',
  canonical: 'a continuous scale',
  'signed-unit': 'a continuous scale',
  unit: 'a continuous scale',
};

/**
 * A {@link LvlmRatingScale} for one of the SDK's named scales (`sam9`, the default, answers
 * 1-9 and maps `(x - 5) · 0.75`; `likert7` answers 1-7; `canonical` answers -3..3).
 * @throws UnknownScaleError for an unknown name.
 */
export function lvlmScale(scale: EmotionScale | string): LvlmRatingScale {
  const name = parseScale(scale);
  const [min, max] = scaleRange(name);
  return Object.freeze({
    name,
    min,
    max,
    description: SCALE_DESCRIPTIONS[name],
    toCanonical: (value: number) => axisToCanonical(value, name),
  });
}

/** What a prompt function receives. */
export interface LvlmPromptContext {
  readonly scale: LvlmRatingScale;
}

/**
 * The question sent with each image: a template string with placeholders, or a function of the
 * scale. Placeholders: `{{min}}`, `{{max}}`, `{{mid}}` (midpoint), `{{scale}}` (name) and
 * `{{scaleDescription}}`. The rendered text is part of the cache key.
 */
export type LvlmPrompt = string | ((context: LvlmPromptContext) => string);

/**
 * The default prompt. Asks for valence and arousal on the configured scale (1-9 SAM unless
 * changed) and a one-sentence rationale, as a single JSON object. Rendered for SAM 1-9 it reads:
 *
 * ```text
 * Rate the emotion this image evokes in a typical viewer, as in affective image datasets such
 * as IAPS and OASIS. Use the 9-point Self-Assessment Manikin (SAM) scale from 1 to 9; decimals
 * are allowed.
 * - valence: how unpleasant (1) or pleasant (9) the image feels; 5 is neutral.
 * - arousal: how calm (1) or exciting and intense (9) the image feels; 5 is moderate.
 * Judge the content, colours, lighting and composition, not the image quality.
 * Reply with one JSON object and nothing else:
 * {"valence": <number from 1 to 9>, "arousal": <number from 1 to 9>, "rationale": "<one short sentence>"}
 * ```
 */
export const DEFAULT_LVLM_PROMPT = [
  'Rate the emotion this image evokes in a typical viewer, as in affective image datasets such as IAPS and OASIS.',
  'Use {{scaleDescription}} from {{min}} to {{max}}; decimals are allowed.',
  '- valence: how unpleasant ({{min}}) or pleasant ({{max}}) the image feels; {{mid}} is neutral.',
  '- arousal: how calm ({{min}}) or exciting and intense ({{max}}) the image feels; {{mid}} is moderate.',
  'Judge the content, colours, lighting and composition, not the image quality.',
  'Reply with one JSON object and nothing else:',
  '{"valence": <number from {{min}} to {{max}}>, "arousal": <number from {{min}} to {{max}}>, "rationale": "<one short sentence>"}',
].join('\n');

/** The default system message: keeps chatty models to the JSON answer. */
export const DEFAULT_LVLM_SYSTEM =
  'You are a careful annotator of affective images. You always answer with a single JSON object.';

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(3)));
}

/**
 * Renders a prompt for a scale.
 * @throws InvalidArgumentError for an unknown placeholder or an empty result.
 */
export function renderLvlmPrompt(prompt: LvlmPrompt, scale: LvlmRatingScale): string {
  let text: string;
  if (typeof prompt === 'function') {
    text = prompt({ scale });
  } else {
    const values: Record<string, string> = {
      min: formatNumber(scale.min),
      max: formatNumber(scale.max),
      mid: formatNumber((scale.min + scale.max) / 2),
      scale: scale.name,
      scaleDescription: scale.description,
    };
    text = prompt.replace(PLACEHOLDER, (_, key: string) => {
      const value = values[key];
      if (value === undefined) {
        throw new InvalidArgumentError(
          'prompt',
          `unknown placeholder {{${key}}}; known: ${Object.keys(values)
            .map((k) => `{{${k}}}`)
            .join(', ')}.`,
        );
      }
      return value;
    });
  }
  if (typeof text !== 'string' || text.trim() === '') {
    throw new InvalidArgumentError('prompt', 'the rendered prompt is empty.');
  }
  return text;
}
