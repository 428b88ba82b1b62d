import type { Emotion, RgbImage } from '@emofeedback/core';
import type { Evaluation } from '@emofeedback/reward';

/** One generated image of a round, with the scorer's reading of it. */
export interface Candidate {
  readonly round: number;
  readonly index: number;
  readonly prompt: string;
  readonly seed: number;
  readonly image: RgbImage;
  readonly evaluation: Evaluation;
  /** Euclidean distance in valence-arousal space to the target; `Infinity` when the evaluation failed. */
  readonly distance: number;
}

/** What a critic said about a round. */
export interface Critique {
  /** What misses the target emotion, in words. */
  readonly analysis: string;
  /** Concrete edits the critic proposes. */
  readonly suggestions: readonly string[];
  /** The prompt for the next round. */
  readonly refinedPrompt: string;
  /** The critic judges the target met; the loop stops. */
  readonly done?: boolean;
  /**
   * The emotion to condition the generator on next round, when the critic steers it (e.g.
   * asking for valence 3 when images made for 2 read 1.2). Default: keep the current one.
   * Candidates are always scored against the user's target.
   */
  readonly conditioning?: Emotion;
}

/** A finished round, as the critic sees it in the history. */
export interface RoundSummary {
  readonly round: number;
  readonly prompt: string;
  /** The emotion the round's images were conditioned on. */
  readonly conditioning: Emotion;
  /** Mean reading over the round's scored images. */
  readonly meanEmotion: Emotion | null;
  readonly bestDistance: number;
  readonly critique?: Critique;
}

/** Everything a critic gets to look at. */
export interface CritiqueInput {
  readonly target: Emotion;
  /** The user's original prompt: its subject must survive every rewrite. */
  readonly userPrompt: string;
  /** The prompt the round was generated from. */
  readonly currentPrompt: string;
  /** The emotion the round's images were conditioned on (the target, unless a critic steered it). */
  readonly currentConditioning?: Emotion;
  readonly round: number;
  readonly candidates: readonly Candidate[];
  readonly history: readonly RoundSummary[];
}

export interface CritiqueOptions {
  readonly signal?: AbortSignal;
}

/**
 * Looks at a round's images and their evaluations, says what misses the target emotion and
 * rewrites the prompt: the self-promotion textual feedback of EmoFeedback².
 * Implementations: {@link LocalPromptCritic} (offline, deterministic) and the LVLM critic.
 */
export interface PromptCritic {
  readonly id: string;
  critique(input: CritiqueInput, options?: CritiqueOptions): Promise<Critique>;
}
