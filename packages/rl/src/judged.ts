import type { Emotion } from '@emofeedback/core';
import type { Evaluation } from '@emofeedback/reward';

/** Judged errors of a generator on a set of (prompt, target) pairs. */
export interface JudgedErrors {
  /** Mean |judged valence − target valence| on [-3, 3]. */
  readonly valenceError: number;
  /** Mean |judged arousal − target arousal|. */
  readonly arousalError: number;
  /** Mean of the two. */
  readonly meanError: number;
  readonly n: number;
  readonly failed: number;
}

/**
 * Mean absolute error per axis of evaluations against their targets (failed evaluations are
 * counted, not scored).
 */
export function judgedErrors(evaluations: readonly Evaluation[], targets: readonly Emotion[]): JudgedErrors {
  let ve = 0;
  let ae = 0;
  let n = 0;
  let failed = 0;
  evaluations.forEach((e, i) => {
    const t = targets[i] as Emotion;
    if (!e.ok) {
      failed++;
      return;
    }
    ve += Math.abs(e.valence - t.valence);
    ae += Math.abs(e.arousal - t.arousal);
    n++;
  });
  const valenceError = ve / Math.max(1, n);
  const arousalError = ae / Math.max(1, n);
  return { valenceError, arousalError, meanError: (valenceError + arousalError) / 2, n, failed };
}
