// 1,000 GRPO iterations of a small configuration: tf.memory().numTensors must stay flat.
// Usage: pnpm bench grpo-memory [-- iterations]
import { createEmoFlowGenerator, ready, tf } from '@emofeedback/core';
import { EmoFeedbackTrainer, type RewardFunction } from '@emofeedback/rl';

const iterations = Number(process.argv[2] ?? 1000);
await ready({ device: 'wasm' });
const generator = createEmoFlowGenerator(
  {
    imageSize: 8,
    channels: [8, 8, 8],
    attentionDim: 8,
    heads: 2,
    condDim: 16,
    timeFeatures: 8,
    groups: 4,
    text: { vocabulary: ['a', 'calm', 'sea', 'storm'], hashBuckets: 8, maxTokens: 6, dim: 8 },
    emotion: { fourierFeatures: 2, hidden: 8, tokens: 2 },
    seed: 1,
  },
  { lora: { rank: 2, seed: 2 } },
);
// A reward computed from the pixels (brightness toward the target valence), so the benchmark
// measures the RL loop itself.
const reward: RewardFunction = {
  id: 'brightness-vs-valence',
  async score(images, targets) {
    const rewards = images.map((img, i) => {
      let s = 0;
      for (const v of img.data) s += v;
      const brightness = s / img.data.length;
      return -Math.abs(brightness * 6 - 3 - (targets[i]?.valence ?? 0));
    });
    return { rewards, components: { emotion: rewards } };
  },
};
const trainer = new EmoFeedbackTrainer({
  generator,
  evaluator: { id: 'unused', evaluate: async () => [] },
  reward,
  targets: [
    { prompt: 'a calm sea', emotion: { valence: 2, arousal: -2 } },
    { prompt: 'a storm', emotion: { valence: -2, arousal: 2 } },
  ],
  grpo: {
    groupsPerIteration: 2,
    groupSize: 4,
    steps: 4,
    trainWindow: [0, 3],
    stepsPerIteration: 2,
    microBatch: 8,
  },
  seed: 3,
});
await trainer.train({ iterations: 1 });
const start = tf.memory().numTensors;
const samples: number[] = [];
const t0 = Date.now();
let maxTensors = start;
for (let i = 1; i < iterations; i++) {
  await trainer.train({ iterations: i + 1 });
  const n = tf.memory().numTensors;
  maxTensors = Math.max(maxTensors, n);
  if (i % 100 === 0) {
    samples.push(n);
    console.log(`iteration ${i + 1}: numTensors ${n}, ${((Date.now() - t0) / i).toFixed(0)} ms/iteration`);
  }
}
const end = tf.memory().numTensors;
console.log(`numTensors after iteration 1: ${start}; after ${iterations}: ${end}; max ${maxTensors}`);
console.log(end === start ? 'FLAT: no tensor leaked' : `LEAK: ${end - start} tensors`);
process.exit(end === start ? 0 : 1);
