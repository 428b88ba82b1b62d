import { beforeAll, describe, expect, it } from 'vitest';
import {
  CONTENT_WEIGHTS_ACCURACY,
  type ContentClassifier,
  createContentClassifier,
  decodeContentWeights,
  emotionGrid,
  encodeContentWeights,
  initContentParams,
  ready,
  renderScene,
  SCENE_SUBJECTS,
  SeededRandom,
  sampleScene,
  sampleSceneForEmotion,
  tf,
} from '../src/index.js';

let classifier: ContentClassifier;

beforeAll(async () => {
  await ready({ device: 'wasm' });
  classifier = createContentClassifier();
});

describe('content classifier', () => {
  it('recognises the subject of fresh rendered scenes well above chance, at 32 and 64 px', async () => {
    const rng = new SeededRandom(12345);
    const specs = Array.from({ length: 4 * SCENE_SUBJECTS.length }, (_, i) =>
      sampleScene(rng, { subject: SCENE_SUBJECTS[i % SCENE_SUBJECTS.length] }),
    );
    for (const size of [32, 64]) {
      const predictions = await classifier.classify(specs.map((s) => renderScene(s, { size })));
      const correct = predictions.filter((p, i) => p.subject === specs[i]?.subject).length;
      // Chance is 1/13; the shipped weights score about 0.95 on 1300 held-out scenes.
      expect(correct / specs.length).toBeGreaterThan(0.8);
      const p = predictions[0];
      expect(Object.keys(p?.probabilities ?? {})).toEqual([...SCENE_SUBJECTS]);
      const sum = Object.values(p?.probabilities ?? {}).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 4);
      expect(p?.confidence).toBe(p ? p.probabilities[p.subject] : -1);
    }
    expect(CONTENT_WEIGHTS_ACCURACY.size32).toBeGreaterThan(0.9);
    expect(CONTENT_WEIGHTS_ACCURACY.size64).toBeGreaterThan(0.9);
    expect(CONTENT_WEIGHTS_ACCURACY.emotionGrid).toBeGreaterThan(0.9);
  });

  it('recognises the subject of scenes drawn for extreme emotion targets (dark, foggy, washed out)', async () => {
    const rng = new SeededRandom(777);
    const targets = emotionGrid([-3, 3]);
    const specs = SCENE_SUBJECTS.flatMap((subject) =>
      targets.map((target) => sampleSceneForEmotion(target, rng, { subject, candidates: 64 })),
    );
    const predictions = await classifier.classify(specs.map((s) => renderScene(s, { size: 32 })));
    const correct = predictions.filter((p, i) => p.subject === specs[i]?.subject).length;
    expect(correct / specs.length).toBeGreaterThan(0.8);
  });

  it('gives differentiable logits and round-trips weights', async () => {
    const x = tf.randomUniform([2, 32, 32, 3]) as tf.Tensor4D;
    const grad = tf.grad((input: tf.Tensor) => tf.sum(classifier.logits(input as tf.Tensor4D)))(x);
    expect(grad.shape).toEqual([2, 32, 32, 3]);
    const params = initContentParams(SCENE_SUBJECTS.length, new SeededRandom(1));
    const weights = await encodeContentWeights(params, SCENE_SUBJECTS);
    const decoded = decodeContentWeights(weights);
    const a = (await params['head.w']?.data()) as Float32Array;
    const b = (await decoded['head.w']?.data()) as Float32Array;
    let maxErr = 0;
    for (let i = 0; i < a.length; i++)
      maxErr = Math.max(maxErr, Math.abs((a[i] as number) - (b[i] as number)));
    expect(maxErr).toBeLessThan(1e-3);
    tf.dispose([x, grad, ...Object.values(params), ...Object.values(decoded)]);
  });
});
