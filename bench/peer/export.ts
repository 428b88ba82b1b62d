/**
 * Writes an EmoFlow generator's weights, and reference outputs computed with tfjs, as JSON for
 * the PyTorch peer (bench/peer/peer.py). Arrays are `[shape, base64 of little-endian float32]`, in the
 * tfjs layouts (linear weights `[in, out]`, convolution kernels `[k, k, in, out]`, images NHWC).
 */
import {
  type EmoFlowGenerator,
  type Emotion,
  emotionFeatures,
  SeededRandom,
  sampleEuler,
  sampleSde,
  sdeStepWithLogProb,
  tf,
  timestepGrid,
} from '@emofeedback/core';
import { ppoClipLoss } from '@emofeedback/rl';

export type ExportedArray = [number[], string];

/** A float32 array as `[shape, base64]`. */
export function encodeArray(data: ArrayLike<number>, shape: readonly number[]): ExportedArray {
  const f = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
  return [[...shape], Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64')];
}

function encodeTensor(t: tf.Tensor): ExportedArray {
  return encodeArray(t.dataSync() as Float32Array, t.shape);
}

/** The model's config, base weights and LoRA adapters (with their scale alpha / rank). */
export function exportWeights(generator: EmoFlowGenerator): Record<string, unknown> {
  const weights: Record<string, ExportedArray> = {};
  for (const [name, v] of generator.model.weights.variables) weights[name] = encodeTensor(v);
  const adapters: Record<string, ExportedArray> = {};
  const lora = generator.adapters;
  if (lora) for (const [name, v] of lora.variables) adapters[name] = encodeTensor(v);
  return {
    config: generator.config,
    loraScale: lora ? lora.config.alpha / lora.config.rank : 1,
    weights,
    adapters,
  };
}

/** Token ids, text mask and emotion features of a batch: the inputs of the peer's encoder. */
export function encoderInputs(
  generator: EmoFlowGenerator,
  prompts: readonly string[],
  emotions: readonly Emotion[],
): Record<string, ExportedArray> {
  const batch = generator.model.text.tokenizer.encodeBatch(prompts);
  const F = generator.config.emotion.fourierFeatures;
  return {
    ids: encodeArray(Float32Array.from(batch.ids), [prompts.length, batch.maxTokens]),
    textMask: encodeArray(batch.mask, [prompts.length, batch.maxTokens]),
    emotionFeatures: encodeArray(emotionFeatures(emotions, F), [emotions.length, 2 + 4 * F]),
  };
}

/**
 * Reference outputs of the tfjs model on fixed inputs: one velocity evaluation at mixed times,
 * 10-step Euler and SDE sampling (with the SDE noise recorded), and the gradient of one GRPO
 * step's loss (PPO-clip + KL to the adapters-off reference) with respect to the adapters.
 */
export async function referenceOutputs(
  generator: EmoFlowGenerator,
  seed: number,
): Promise<Record<string, unknown>> {
  const prompts = ['a dog in a meadow', 'two trees in a forest at night', 'a boat on the sea', 'a city'];
  const emotions: Emotion[] = [
    { valence: 2, arousal: -1 },
    { valence: -2.5, arousal: 1.5 },
    { valence: 0.3, arousal: 0.2 },
    { valence: -1, arousal: -2 },
  ];
  const n = prompts.length;
  const S = generator.config.imageSize;
  const rng = new SeededRandom(seed);
  const out: Record<string, unknown> = { inputs: encoderInputs(generator, prompts, emotions) };
  const normal = (count: number) => rng.normalArray(count);
  const x = normal(n * S * S * 3);
  const times = [0.95, 0.6, 0.3, 0.05];
  const grid = timestepGrid(10);
  const noises = grid.slice(1).map(() => normal(n * S * S * 3));
  const cond = generator.model.encode(prompts, emotions);
  try {
    const v = tf.tidy(() => generator.model.velocity(tf.tensor4d(x, [n, S, S, 3]), tf.tensor1d(times), cond));
    out.x = encodeArray(x, [n, S, S, 3]);
    out.times = times;
    out.velocity = encodeTensor(v);
    v.dispose();
    const x1 = tf.tensor4d(noises[0] as Float32Array, [n, S, S, 3]);
    const velocity = generator.velocityFn(cond, 1);
    const euler = await sampleEuler(velocity, x1, grid);
    out.noise = encodeArray(noises[0] as Float32Array, [n, S, S, 3]);
    out.euler = encodeTensor(euler);
    euler.dispose();
    // Classifier-free guidance as the shipped sampling defaults use it ([cond; null] batch).
    const guidanceScale = 2;
    const both = generator.conditioning(prompts, emotions, guidanceScale);
    try {
      const guided = await sampleEuler(generator.velocityFn(both, guidanceScale), x1, grid);
      out.guidanceScale = guidanceScale;
      out.eulerGuided = encodeTensor(guided);
      guided.dispose();
    } finally {
      tf.dispose([both.tokens, both.mask, both.pooled]);
    }
    const sdeNoise = noises.slice(1).concat([normal(n * S * S * 3)]);
    const noiseLevel = 0.7;
    const sde = await sampleSde(velocity, x1, grid, {
      noiseLevel,
      noiseFor: (i) => tf.tensor4d(sdeNoise[i] as Float32Array, [n, S, S, 3]),
    });
    x1.dispose();
    out.sdeNoise = sdeNoise.map((a) => encodeArray(a, [n, S, S, 3]));
    out.sdeFinal = encodeTensor(sde.final);
    sde.final.dispose();
    out.sdeLogProbs = encodeArray(Float32Array.from(sde.logProbs.flatMap((a) => [...a])), [
      sde.logProbs.length,
      n,
    ]);
    out.noiseLevel = noiseLevel;
    // One GRPO step's loss and its adapter gradients, at step 2 of the SDE trajectory.
    const step = 2;
    const advantages = [1.2, -0.4, 0.7, -1.5];
    const oldLogProb = Array.from(sde.logProbs[step] as Float32Array, (l, i) => l + 0.05 * (i - 1.5));
    const xs = tf.tensor4d(sde.latents[step] as Float32Array, [n, S, S, 3]);
    const next = tf.tensor4d(sde.latents[step + 1] as Float32Array, [n, S, S, 3]);
    const t = grid[step] as number;
    const tNext = grid[step + 1] as number;
    const opts = { sigmaMax: grid[1] as number, noiseLevel, next };
    const refMean = generator.withAdaptersDisabled(() =>
      tf.tidy(() => sdeStepWithLogProb(xs, velocity(xs, t, step), t, tNext, opts).mean),
    );
    const variables = generator.trainableVariables();
    const { value, grads } = tf.variableGrads(() => {
      const cur = sdeStepWithLogProb(xs, velocity(xs, t, step), t, tNext, opts);
      const ppo = ppoClipLoss(cur.logProb, tf.tensor1d(oldLogProb), tf.tensor1d(advantages), 0.2);
      const kl = tf.div(tf.mean(tf.square(tf.sub(cur.mean, refMean))), 2 * cur.std * cur.std);
      return tf.add(ppo.loss, tf.mul(kl, 0.01)) as tf.Scalar;
    }, variables);
    out.grpo = {
      step,
      x: encodeArray(sde.latents[step] as Float32Array, [n, S, S, 3]),
      next: encodeArray(sde.latents[step + 1] as Float32Array, [n, S, S, 3]),
      advantages,
      oldLogProb,
      clipRange: 0.2,
      klWeight: 0.01,
      loss: value.dataSync()[0],
      grads: Object.fromEntries(
        generator.adapters
          ? [...generator.adapters.variables].map(([name, v]) => [
              name,
              encodeTensor(grads[v.name] as tf.Tensor),
            ])
          : [],
      ),
    };
    tf.dispose([value, refMean, xs, next, ...Object.values(grads)]);
    return out;
  } finally {
    tf.dispose([cond.tokens, cond.mask, cond.pooled]);
  }
}
