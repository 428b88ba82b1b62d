import { InvalidArgumentError } from '@emofeedback/core';

export interface GroupAdvantageOptions {
  /** Added to the group's standard deviation, default 1e-4. */
  readonly epsilon?: number;
  /** Advantages are clipped to ±clip, default 5. */
  readonly clip?: number;
  /** A group whose reward spread (max − min) is at most this is dropped, default 1e-6. */
  readonly minSpread?: number;
  /**
   * Divide by each group's standard deviation (`group`, the default) or by that of every valid
   * reward of the batch (`batch`, Flow-GRPO's `global_std`); the mean is the group's either way.
   */
  readonly std?: 'group' | 'batch';
}

export interface GroupAdvantages {
  /** One advantage per sample, in input order; 0 for samples of dropped groups or invalid rewards. */
  readonly advantages: number[][];
  /** Per group: false when dropped (zero spread, or fewer than 2 valid rewards). */
  readonly kept: boolean[];
  /** Number of groups dropped for having no spread. */
  readonly zeroSpreadGroups: number;
  /** Number of samples whose reward was not finite (failed evaluations); they get advantage 0. */
  readonly invalidSamples: number;
}

/**
 * GRPO advantages: each group's rewards minus the group's mean, divided by the group's (or the
 * batch's) standard deviation (+ ε), clipped to ±clip. A group whose rewards do not spread carries no signal: it is dropped
 * and counted. Non-finite rewards (failed evaluations) are left out of the statistics and get 0.
 */
export function groupAdvantages(
  rewards: readonly (readonly number[])[],
  options: GroupAdvantageOptions = {},
): GroupAdvantages {
  const eps = options.epsilon ?? 1e-4;
  const clip = options.clip ?? 5;
  const minSpread = options.minSpread ?? 1e-6;
  if (!(clip > 0)) throw new InvalidArgumentError('clip', `expected a positive number, got ${clip}.`);
  if (rewards.length === 0) throw new InvalidArgumentError('rewards', 'no groups.');
  const stdMode = options.std ?? 'group';
  if (stdMode !== 'group' && stdMode !== 'batch')
    throw new InvalidArgumentError('std', `expected 'group' or 'batch', got ${String(stdMode)}.`);
  const all = rewards.flat().filter((r) => Number.isFinite(r));
  const allMean = all.reduce((s, r) => s + r, 0) / Math.max(1, all.length);
  const batchStd = Math.sqrt(all.reduce((s, r) => s + (r - allMean) ** 2, 0) / Math.max(1, all.length));
  let zeroSpreadGroups = 0;
  let invalidSamples = 0;
  const kept: boolean[] = [];
  const advantages = rewards.map((group, g) => {
    if (group.length === 0) throw new InvalidArgumentError(`rewards[${g}]`, 'an empty group.');
    const valid = group.filter((r) => Number.isFinite(r));
    invalidSamples += group.length - valid.length;
    const zeros = group.map(() => 0);
    if (valid.length < 2) {
      kept.push(false);
      return zeros;
    }
    const spread = Math.max(...valid) - Math.min(...valid);
    if (spread <= minSpread) {
      zeroSpreadGroups++;
      kept.push(false);
      return zeros;
    }
    const mean = valid.reduce((s, r) => s + r, 0) / valid.length;
    const std =
      stdMode === 'batch'
        ? batchStd
        : Math.sqrt(valid.reduce((s, r) => s + (r - mean) ** 2, 0) / valid.length);
    kept.push(true);
    return group.map((r) =>
      Number.isFinite(r) ? Math.max(-clip, Math.min(clip, (r - mean) / (std + eps))) : 0,
    );
  });
  return { advantages, kept, zeroSpreadGroups, invalidSamples };
}
