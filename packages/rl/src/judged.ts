import type { Emotion } from '@emofeedback/core';
import { type Evaluation, type TargetAgreement, targetAgreement } from '@emofeedback/reward';

/** Judged errors of a generator on a set of (prompt, target) pairs. */
export interface JudgedErrors {
  /** Mean |judged valence − target valence| on [-3, 3]. */
  readonly valenceError: number;
  /** Mean |judged arousal − target arousal|. */
  readonly arousalError: number;
  /** Mean of the two. */
  readonly meanError: number;
  /**
   * Per axis: Spearman ρ between target and reading and the slope of the reading against the
   * target, with 95% intervals (undefined with fewer than 4 scored images). A compressed reading
   * scores a small error with a slope near 0, so read the error beside these.
   */
  readonly valence: TargetAgreement | undefined;
  readonly arousal: TargetAgreement | undefined;
  readonly n: number;
  readonly failed: number;
}

/**
 * Mean absolute error per axis of evaluations against their targets, with rank correlation and
 * slope (failed evaluations are counted, not scored).
 */
export function judgedErrors(evaluations: readonly Evaluation[], targets: readonly Emotion[]): JudgedErrors {
  const read = { valence: [] as number[], arousal: [] as number[] };
  const want = { valence: [] as number[], arousal: [] as number[] };
  let failed = 0;
  evaluations.forEach((e, i) => {
    const t = targets[i] as Emotion;
    if (!e.ok) {
      failed++;
      return;
    }
    for (const axis of ['valence', 'arousal'] as const) {
      read[axis].push(e[axis]);
      want[axis].push(t[axis]);
    }
  });
  const n = read.valence.length;
  const error = (axis: 'valence' | 'arousal') =>
    read[axis].reduce((s, r, i) => s + Math.abs(r - (want[axis][i] as number)), 0) / Math.max(1, n);
  const agreement = (axis: 'valence' | 'arousal') =>
    n >= 4 ? targetAgreement(read[axis], want[axis]) : undefined;
  const valenceError = error('valence');
  const arousalError = error('arousal');
  return {
    valenceError,
    arousalError,
    meanError: (valenceError + arousalError) / 2,
    valence: agreement('valence'),
    arousal: agreement('arousal'),
    n,
    failed,
  };
}
