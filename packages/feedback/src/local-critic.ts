import { clampEmotion, type Emotion, InvalidArgumentError } from '@emofeedback/core';
import type { Critique, CritiqueInput, PromptCritic } from './critic.js';

/** A descriptor's effect measured with the generator conditioned on one emotion. */
export interface DescriptorEffectAt {
  readonly conditioning: Emotion;
  readonly valence: number;
  readonly arousal: number;
}

/**
 * A descriptor the local critic can add to a prompt, with its measured effect: how much
 * appending it moves the evaluator's mean valence and arousal (canonical scale) through the
 * shipped generator, averaged over prompts and seeds.
 */
export interface DescriptorEffect {
  readonly phrase: string;
  /** The effect averaged over every conditioning it was measured at. */
  readonly valence: number;
  readonly arousal: number;
  /** Descriptors of one group (e.g. weather) are mutually exclusive in a prompt. */
  readonly group?: string;
  /**
   * The effect at several conditioning emotions. A phrase can act one way on a neutral image and
   * another where the emotion input already sets the scene (on the shipped generator, "warm
   * colours" raises the reading's valence by 0.4 at neutral conditioning and lowers it at the
   * pleasant-excited corner). When present, the critic uses the effect interpolated at the
   * round's conditioning (inverse squared distance weights) instead of the average.
   */
  readonly at?: readonly DescriptorEffectAt[];
}

export interface LocalPromptCriticOptions {
  /** The descriptor vocabulary with measured effects. */
  readonly lexicon: readonly DescriptorEffect[];
  /** Most descriptors appended to the user's prompt, default 3. */
  readonly maxDescriptors?: number;
  /** Report `done` once the round's best image is this close to the target (default 0.3). */
  readonly doneDistance?: number;
  /**
   * How strongly the critic steers the emotion the generator is conditioned on: next
   * conditioning = current + gain · (target − expected reading). 0 turns steering off (for
   * generators whose emotion input is only text); default 1.
   */
  readonly steeringGain?: number;
}

const fmt = (x: number) => (x >= 0 ? `+${x.toFixed(2)}` : x.toFixed(2));

/**
 * The offline critic: rewrites the prompt deterministically from a vocabulary of descriptors
 * whose effect on valence and arousal was measured.
 *
 * It keeps an estimate of where the user's prompt lands without descriptors (observed mean
 * minus the effects of the descriptors in use, averaged over rounds), then picks the set of at
 * most `maxDescriptors` descriptors whose summed effect moves that estimate closest to the target,
 * preferring sets not tried yet. The user's prompt is kept verbatim at the front of every
 * rewrite, so its content words stay.
 */
export class LocalPromptCritic implements PromptCritic {
  readonly id = 'local:descriptor-lexicon';
  private readonly lexicon: readonly DescriptorEffect[];
  private readonly maxDescriptors: number;
  private readonly doneDistance: number;
  private readonly steeringGain: number;

  constructor(options: LocalPromptCriticOptions) {
    if (!options.lexicon?.length)
      throw new InvalidArgumentError('lexicon', 'the descriptor lexicon is empty.');
    const finite = (e: { valence: number; arousal: number }) =>
      Number.isFinite(e.valence) && Number.isFinite(e.arousal);
    for (const d of options.lexicon) {
      const atValid = (d.at ?? []).every((a) => finite(a) && a.conditioning && finite(a.conditioning));
      if (!d.phrase?.trim() || !finite(d) || !atValid) {
        throw new InvalidArgumentError(
          'lexicon',
          `descriptor ${JSON.stringify(d)} needs a phrase and finite effects.`,
        );
      }
    }
    this.lexicon = options.lexicon;
    this.maxDescriptors = options.maxDescriptors ?? 3;
    this.doneDistance = options.doneDistance ?? 0.3;
    this.steeringGain = options.steeringGain ?? 1;
    if (!(this.steeringGain >= 0 && this.steeringGain <= 3)) {
      throw new InvalidArgumentError(
        'steeringGain',
        `expected a number in [0, 3], got ${this.steeringGain}.`,
      );
    }
  }

  async critique(input: CritiqueInput): Promise<Critique> {
    const { target, userPrompt } = input;
    const scored = input.candidates.filter((c) => c.evaluation.ok);
    const roundBest = scored.reduce<(typeof scored)[number] | null>(
      (b, c) => (b === null || c.distance < b.distance ? c : b),
      null,
    );
    if (scored.length === 0) {
      return {
        analysis: `Round ${input.round}: no image could be scored, so the prompt is kept.`,
        suggestions: [],
        refinedPrompt: input.currentPrompt,
      };
    }
    const observed = mean(scored.map((c) => c.evaluation as unknown as Emotion));
    const current = input.currentConditioning ?? target;
    // Effects at this round's conditioning; the next round's stays near it or moves toward the
    // target's side, where the same effects are the best estimate at hand.
    const effects = this.effectsAt(current);

    // Where the bare user prompt lands under the current conditioning: this round's observation
    // minus the effects of the descriptors in use.
    const base = subtract(
      observed,
      this.effectOf(this.descriptorsIn(input.currentPrompt, userPrompt), effects),
    );

    const tried = new Set(
      [...input.history.map((h) => h.prompt), input.currentPrompt].map((p) =>
        this.key(this.descriptorsIn(p, userPrompt)),
      ),
    );
    const choice = this.bestSet(base, target, tried, effects);
    const predicted = add(base, this.effectOf(choice, effects));
    // What descriptors cannot close, steering the generator's emotion input tries to.
    const conditioning = clampEmotion({
      valence: current.valence + this.steeringGain * (target.valence - predicted.valence),
      arousal: current.arousal + this.steeringGain * (target.arousal - predicted.arousal),
    });
    const refinedPrompt = choice.length
      ? `${userPrompt}, ${choice.map((d) => d.phrase).join(', ')}`
      : userPrompt;

    const dv = observed.valence - target.valence;
    const da = observed.arousal - target.arousal;
    const words = [
      Math.abs(dv) < 0.3
        ? 'valence is on target'
        : dv < 0
          ? `not pleasant enough (${fmt(dv)})`
          : `too pleasant (${fmt(dv)})`,
      Math.abs(da) < 0.3
        ? 'arousal is on target'
        : da < 0
          ? `too calm (${fmt(da)})`
          : `too excited (${fmt(da)})`,
    ];
    const analysis =
      `Round ${input.round}: the images read valence ${observed.valence.toFixed(2)}, arousal ${observed.arousal.toFixed(2)} ` +
      `against the target ${target.valence.toFixed(2)}, ${target.arousal.toFixed(2)}: ${words.join(' and ')}.`;
    const suggestions = choice.map((d) => {
      const e = effects.get(d) as Emotion;
      return `add "${d.phrase}" (valence ${fmt(e.valence)}, arousal ${fmt(e.arousal)})`;
    });
    suggestions.push(
      `expected reading after the rewrite: valence ${predicted.valence.toFixed(2)}, arousal ${predicted.arousal.toFixed(2)}`,
    );
    if (this.steeringGain > 0) {
      suggestions.push(
        `condition the generator on valence ${conditioning.valence.toFixed(2)}, arousal ${conditioning.arousal.toFixed(2)} to compensate`,
      );
    }
    return {
      analysis,
      suggestions,
      refinedPrompt,
      ...(this.steeringGain > 0 ? { conditioning } : {}),
      done: roundBest !== null && roundBest.distance <= this.doneDistance,
    };
  }

  private key(set: readonly DescriptorEffect[]): string {
    return set
      .map((d) => d.phrase)
      .sort()
      .join('|');
  }

  /** The lexicon descriptors a prompt carries after the user's prompt. */
  private descriptorsIn(prompt: string, userPrompt: string): DescriptorEffect[] {
    const tail = prompt.startsWith(userPrompt) ? prompt.slice(userPrompt.length) : '';
    const parts = new Set(
      tail
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    );
    return this.lexicon.filter((d) => parts.has(d.phrase));
  }

  /** Each descriptor's effect at a conditioning emotion. */
  private effectsAt(conditioning: Emotion): Map<DescriptorEffect, Emotion> {
    return new Map(this.lexicon.map((d) => [d, effectAt(d, conditioning)]));
  }

  private effectOf(set: readonly DescriptorEffect[], effects: Map<DescriptorEffect, Emotion>): Emotion {
    return set.reduce(
      (sum, d) => {
        const e = effects.get(d) as Emotion;
        return { valence: sum.valence + e.valence, arousal: sum.arousal + e.arousal };
      },
      { valence: 0, arousal: 0 },
    );
  }

  /** Exhaustive search over descriptor sets up to `maxDescriptors`, one per group. */
  private bestSet(
    base: Emotion,
    target: Emotion,
    tried: Set<string>,
    effects: Map<DescriptorEffect, Emotion>,
  ): DescriptorEffect[] {
    let best: { set: DescriptorEffect[]; score: number } = { set: [], score: Number.POSITIVE_INFINITY };
    const visit = (start: number, set: DescriptorEffect[]) => {
      const p = add(base, this.effectOf(set, effects));
      const distance = Math.hypot(p.valence - target.valence, p.arousal - target.arousal);
      // A small penalty for repeating a tried set, so ties go to new evidence; a tiny one per
      // descriptor, so shorter prompts win ties.
      const score = distance + (tried.has(this.key(set)) ? 0.15 : 0) + set.length * 1e-3;
      if (score < best.score) best = { set: [...set], score };
      if (set.length === this.maxDescriptors) return;
      for (let i = start; i < this.lexicon.length; i++) {
        const d = this.lexicon[i] as DescriptorEffect;
        if (d.group && set.some((s) => s.group === d.group)) continue;
        set.push(d);
        visit(i + 1, set);
        set.pop();
      }
    };
    visit(0, []);
    return best.set;
  }
}

/**
 * A descriptor's effect at a conditioning emotion: the measured effects at other conditionings
 * weighted by inverse squared distance (exact at a measured point), or the average effect when
 * none were measured.
 */
export function effectAt(descriptor: DescriptorEffect, conditioning: Emotion): Emotion {
  if (!descriptor.at?.length) return { valence: descriptor.valence, arousal: descriptor.arousal };
  let w = 0;
  let valence = 0;
  let arousal = 0;
  for (const a of descriptor.at) {
    const d2 =
      (a.conditioning.valence - conditioning.valence) ** 2 +
      (a.conditioning.arousal - conditioning.arousal) ** 2;
    if (d2 < 1e-12) return { valence: a.valence, arousal: a.arousal };
    const weight = 1 / d2;
    w += weight;
    valence += weight * a.valence;
    arousal += weight * a.arousal;
  }
  return { valence: valence / w, arousal: arousal / w };
}

function mean(xs: readonly Emotion[]): Emotion {
  return {
    valence: xs.reduce((s, e) => s + e.valence, 0) / xs.length,
    arousal: xs.reduce((s, e) => s + e.arousal, 0) / xs.length,
  };
}
function add(a: Emotion, b: Emotion): Emotion {
  return { valence: a.valence + b.valence, arousal: a.arousal + b.arousal };
}
function subtract(a: Emotion, b: Emotion): Emotion {
  return { valence: a.valence - b.valence, arousal: a.arousal - b.arousal };
}
