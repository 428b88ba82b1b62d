import { InvalidArgumentError } from '@emofeedback/core';
import type { GrpoIterationMetrics } from './grpo.js';

/** Options of the trainer's guard against reward hacking that costs image quality. */
export interface QualityGuardOptions {
  /** The reward component to watch; default `quality`. */
  readonly component?: string;
  /** The relative drop below the first iteration's value that triggers the guard; default 0.1. */
  readonly maxDrop?: number;
  /** `warn` (default): emit a `quality-warning` event and go on; `stop`: emit it and stop training. */
  readonly action?: 'warn' | 'stop';
}

/** What the guard reports when it triggers. */
export interface QualityWarning {
  readonly quality: number;
  readonly baseline: number;
  readonly drop: number;
  readonly stopped: boolean;
}

/**
 * Compares each iteration's mean quality component with its value at the first iteration. The
 * drop is relative to |baseline|, so a negative baseline (quality scores may be below 0) still
 * reads "lower is worse".
 */
export class QualityGuard {
  /** The first iteration's mean quality (kept in checkpoints so a resumed run compares alike). */
  baseline: number | null = null;
  private readonly component: string;
  private readonly maxDrop: number;
  private readonly action: 'warn' | 'stop';

  /** @throws InvalidArgumentError for a drop outside (0, 1] or an unknown action. */
  constructor(options: QualityGuardOptions = {}) {
    this.component = options.component ?? 'quality';
    this.maxDrop = options.maxDrop ?? 0.1;
    this.action = options.action ?? 'warn';
    if (!(this.maxDrop > 0 && this.maxDrop <= 1)) {
      throw new InvalidArgumentError(
        'qualityGuard.maxDrop',
        `expected a number in (0, 1], got ${this.maxDrop}.`,
      );
    }
    if (this.action !== 'warn' && this.action !== 'stop') {
      throw new InvalidArgumentError(
        'qualityGuard.action',
        `expected 'warn' or 'stop', got ${String(this.action)}.`,
      );
    }
  }

  /** Records the baseline on first sight; returns a warning when quality fell too far. */
  check(metrics: GrpoIterationMetrics): QualityWarning | null {
    const quality = metrics.components[this.component];
    if (quality === undefined || !Number.isFinite(quality)) return null;
    if (this.baseline === null) {
      this.baseline = quality;
      return null;
    }
    const scale = Math.abs(this.baseline);
    // A zero baseline has no relative scale: any fall below it counts.
    const drop = scale > 0 ? (this.baseline - quality) / scale : quality < 0 ? Number.POSITIVE_INFINITY : 0;
    if (!(drop > this.maxDrop)) return null;
    return { quality, baseline: this.baseline, drop, stopped: this.action === 'stop' };
  }
}
