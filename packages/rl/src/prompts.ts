import { type Emotion, emotionGrid } from '@emofeedback/core';
import type { TrainingTarget } from './grpo-plan.js';

/** Prompts the embedded default's RL trains on (subjects and settings the generator knows). */
export const DEFAULT_TRAINING_PROMPTS: readonly string[] = [
  'a dog in a green meadow',
  'a flower on a sandy beach',
  'a house in a big city',
  'a boat on the open sea',
  'a tree in the snowy mountains',
  'a spider in a dense forest',
  'a snake in the dry desert',
  'a skull in a barren wasteland',
  'a cat in a quiet meadow',
  'a fire in a deep forest',
];

/** Prompts held out from RL: judged evaluation uses these only. */
export const DEFAULT_HELD_OUT_PROMPTS: readonly string[] = [
  'a heart in a modern city',
  'a dog on a wide beach',
  'a flower in a grassy meadow',
  'a boat on the calm sea',
  'a tree in a pine forest',
  'a house in the high mountains',
  'a cat on an empty beach',
  'a spider in a big city',
  'a snake in a grassy meadow',
  'a skull in the endless desert',
  'a fire in the rocky mountains',
  'the sun over the wide sea',
  'a tombstone in a quiet meadow',
  'a heart on a sandy beach',
  'a dog in the snowy mountains',
  'a flower in a desolate wasteland',
  'a cat in a dense forest',
  'a boat in a busy city',
  'a tree in the dry desert',
  'a house on the open sea',
];

/** Every prompt paired with every emotion (default: the 5×5 grid EmotiCrafter evaluates on). */
export function gridTargets(
  prompts: readonly string[],
  emotions: readonly Emotion[] = emotionGrid(),
): TrainingTarget[] {
  return prompts.flatMap((prompt) => emotions.map((emotion) => ({ prompt, emotion })));
}
