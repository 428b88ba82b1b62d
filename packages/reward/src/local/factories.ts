import { JUDGE_HEAD } from '../weights/judge-head.generated.js';
import { LOCAL_HEAD } from '../weights/local-head.generated.js';
import {
  createLocalEvaluatorFromHead,
  type LocalEvaluator,
  type LocalEvaluatorOptions,
} from './evaluator.js';

/**
 * The offline default evaluator, used as the **reward model** while training generators: a
 * frozen MobileNetV2 backbone shipped by `nsfwjs` plus a small regression head trained on
 * human-rated photos (OASIS) and silhouettes (BASS). Scores valence and arousal on [-3, 3].
 *
 * The backbone loads once per process and is shared; call `dispose()` when done. Choose the
 * tfjs backend first (`await ready({ device: 'wasm' })` is the fast CPU choice).
 *
 * Do not judge a generator trained against this evaluator with this evaluator: use
 * {@link createLocalJudge}, trained independently on a different backbone.
 */
export async function createLocalEvaluator(options: LocalEvaluatorOptions = {}): Promise<LocalEvaluator> {
  return createLocalEvaluatorFromHead(options.head ?? LOCAL_HEAD);
}

/**
 * The default **judge** for evaluating generators: a second local evaluator with a different
 * backbone and an independently trained head, so that a generator that learned to please the
 * reward model ({@link createLocalEvaluator}) is not graded by the same model.
 */
export async function createLocalJudge(options: LocalEvaluatorOptions = {}): Promise<LocalEvaluator> {
  return createLocalEvaluatorFromHead(options.head ?? JUDGE_HEAD);
}
