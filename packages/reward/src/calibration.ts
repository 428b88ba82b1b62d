import {
  emotion as checkEmotion,
  EMOTION_MAX,
  EMOTION_MIN,
  type Emotion,
  InvalidArgumentError,
  type RgbImage,
  validateImage,
} from '@emofeedback/core';
import type { EmotionEvaluator, EvaluateOptions, Evaluation } from './evaluator.js';
import { type AxisMetrics, axisMetrics } from './metrics.js';

/** An image with its human rating on the canonical [-3, 3] scale. */
export interface RatedImageInput {
  readonly image: RgbImage;
  readonly valence: number;
  readonly arousal: number;
}

/** Options of {@link calibrate}. */
export interface CalibrateOptions extends EvaluateOptions {
  /** Images per `evaluate` call (consecutive images of one size are batched); default 16. */
  readonly batchSize?: number;
  /** Called after each batch with the number of images done so far. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** How well an evaluator agrees with human ratings. */
export interface CalibrationReport {
  /** Metrics over the images that were scored (`NaN` when fewer than two were). */
  readonly valence: AxisMetrics;
  readonly arousal: AxisMetrics;
  /** Images scored. */
  readonly n: number;
  /** Images the evaluator could not score (`ok: false`); they are left out of the metrics. */
  readonly failed: number;
  /** One evaluation per input image, in input order. */
  readonly evaluations: Evaluation[];
}

const NAN_METRICS: AxisMetrics = { mae: Number.NaN, pearson: Number.NaN, ccc: Number.NaN };

/**
 * Runs an evaluator over human-rated images and measures its agreement: MAE, Pearson r and
 * CCC per axis. Failed evaluations are counted, not scored.
 * @throws InvalidArgumentError for an empty list; InvalidImageError / InvalidEmotionError
 *   naming the bad entry.
 */
export async function calibrate(
  evaluator: EmotionEvaluator,
  ratedImages: readonly RatedImageInput[],
  options: CalibrateOptions = {},
): Promise<CalibrationReport> {
  if (!Array.isArray(ratedImages) || ratedImages.length === 0)
    throw new InvalidArgumentError(
      'ratedImages',
      'expected a non-empty array of { image, valence, arousal }.',
    );
  ratedImages.forEach((r, i) => {
    validateImage(r.image, `ratedImages[${i}].image`);
    checkEmotion(r, `ratedImages[${i}]`);
  });
  const batch = Math.max(1, Math.floor(options.batchSize ?? 16));
  const evaluations: Evaluation[] = [];
  let start = 0;
  while (start < ratedImages.length) {
    const first = (ratedImages[start] as RatedImageInput).image;
    let end = start + 1;
    while (
      end < ratedImages.length &&
      end - start < batch &&
      (ratedImages[end] as RatedImageInput).image.width === first.width &&
      (ratedImages[end] as RatedImageInput).image.height === first.height
    )
      end++;
    const images = ratedImages.slice(start, end).map((r) => r.image);
    if (options.signal?.aborted) {
      for (let i = start; i < end; i++)
        evaluations.push({ ok: false, failure: 'other', message: 'aborted before this image was scored.' });
    } else {
      evaluations.push(...(await evaluator.evaluate(images, { signal: options.signal })));
    }
    start = end;
    options.onProgress?.(start, ratedImages.length);
  }
  const pv: number[] = [];
  const pa: number[] = [];
  const tv: number[] = [];
  const ta: number[] = [];
  evaluations.forEach((e, i) => {
    if (!e.ok) return;
    const r = ratedImages[i] as RatedImageInput;
    pv.push(e.valence);
    pa.push(e.arousal);
    tv.push(r.valence);
    ta.push(r.arousal);
  });
  const n = pv.length;
  return {
    valence: n >= 2 ? axisMetrics(pv, tv) : NAN_METRICS,
    arousal: n >= 2 ? axisMetrics(pa, ta) : NAN_METRICS,
    n,
    failed: evaluations.length - n,
    evaluations,
  };
}

/** `corrected = slope · predicted + intercept`, per axis. */
export interface AxisCorrection {
  readonly slope: number;
  readonly intercept: number;
}

/** A per-axis linear correction fitted by {@link fitLinearCorrection}. */
export interface LinearCorrection {
  readonly valence: AxisCorrection;
  readonly arousal: AxisCorrection;
  /** Pairs it was fitted on. */
  readonly n: number;
}

function fitAxis(x: readonly number[], y: readonly number[], axis: string): AxisCorrection {
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += ((x[i] as number) - mx) ** 2;
    sxy += ((x[i] as number) - mx) * ((y[i] as number) - my);
  }
  if (!(sxx > 1e-12))
    throw new InvalidArgumentError(
      'evaluations',
      `every ${axis} prediction is the same; a slope cannot be fitted.`,
    );
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/**
 * Least-squares per-axis linear correction from an evaluator's predictions to human ratings
 * (e.g. `report.evaluations` from {@link calibrate} and the same rated images). Failed
 * evaluations are skipped.
 * @throws InvalidArgumentError when the lists do not pair up, fewer than two evaluations
 *   succeeded, or the predictions on an axis are constant.
 */
export function fitLinearCorrection(
  evaluations: readonly Evaluation[],
  ratings: readonly Emotion[],
): LinearCorrection {
  if (evaluations.length !== ratings.length)
    throw new InvalidArgumentError(
      'evaluations',
      `has ${evaluations.length} entries but ratings has ${ratings.length}; they must pair up.`,
    );
  const pv: number[] = [];
  const pa: number[] = [];
  const tv: number[] = [];
  const ta: number[] = [];
  evaluations.forEach((e, i) => {
    if (!e.ok) return;
    const r = checkEmotion(ratings[i] as Emotion, `ratings[${i}]`);
    pv.push(e.valence);
    pa.push(e.arousal);
    tv.push(r.valence);
    ta.push(r.arousal);
  });
  if (pv.length < 2)
    throw new InvalidArgumentError(
      'evaluations',
      `needs at least 2 successful evaluations, got ${pv.length}.`,
    );
  return { valence: fitAxis(pv, tv, 'valence'), arousal: fitAxis(pa, ta, 'arousal'), n: pv.length };
}

const clamp = (v: number) => Math.min(EMOTION_MAX, Math.max(EMOTION_MIN, v));

/**
 * Wraps an evaluator so that its scores pass through a linear correction (then clamp to
 * [-3, 3]). Failed evaluations pass through unchanged. The id gains a `+linear` suffix.
 * @throws InvalidArgumentError for a correction with non-finite coefficients.
 */
export function withLinearCorrection(evaluator: EmotionEvaluator, fit: LinearCorrection): EmotionEvaluator {
  for (const axis of ['valence', 'arousal'] as const)
    for (const key of ['slope', 'intercept'] as const)
      if (!Number.isFinite(fit[axis]?.[key]))
        throw new InvalidArgumentError(
          'fit',
          `${axis}.${key} must be a finite number, got ${fit[axis]?.[key]}.`,
        );
  const corrected: EmotionEvaluator = {
    id: `${evaluator.id}+linear`,
    async evaluate(images, options) {
      const out = await evaluator.evaluate(images, options);
      return out.map((e) =>
        e.ok
          ? {
              ...e,
              valence: clamp(fit.valence.slope * e.valence + fit.valence.intercept),
              arousal: clamp(fit.arousal.slope * e.arousal + fit.arousal.intercept),
            }
          : e,
      );
    },
  };
  if (evaluator.dispose) corrected.dispose = () => evaluator.dispose?.();
  return corrected;
}
