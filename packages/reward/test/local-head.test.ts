import { InvalidArgumentError, type RgbImage, ready, SeededRandom } from '@emofeedback/core';
import {
  createLocalEvaluatorFromHead,
  decodeHead,
  encodeFloat32Base64,
  IMAGE_STAT_NAMES,
  type SerializedHead,
} from '@emofeedback/reward';
import { beforeAll, describe, expect, it } from 'vitest';
import { JUDGE_HEAD } from '../src/weights/judge-head.generated.js';
import { LOCAL_HEAD } from '../src/weights/local-head.generated.js';

const nStats = IMAGE_STAT_NAMES.length;

/**
 * A format-@2 head on the pooled vector and the block-13 mean of `mobilenet-v2-mid` whose weights
 * are all zero, so that each head predicts its bias; the gate is a constant `gateBias`.
 */
function constantGatedHead(gateBias: number): SerializedHead {
  const endpoints = [
    ['pool', 1792],
    ['block13', 816],
  ] as const;
  const featureSize = 1792 + 816;
  const inputs = featureSize + nStats;
  const k = 2;
  const pcaSize = 1792;
  return {
    format: 'emofeedback-local-head@2',
    id: 'local:test-gated',
    backbone: 'mobilenet-v2-mid',
    featureSize,
    endpoints,
    pcaFeatureSize: pcaSize,
    domainGate: true,
    featureTransform: 'sqrt',
    useImageStats: true,
    pcaComponents: k,
    naturalness: { mean: 0, std: 1 },
    imageStatLimits: { highFreq: 1, clipped: 1 },
    trainedOn: 'nothing (test head)',
    layout: [
      ['weights', inputs * 4],
      ['bias', 4],
      ['gateWeights', inputs],
      ['gateBias', 1],
      ['pcaMean', pcaSize],
      ['pcaBasis', pcaSize * k],
      ['pcaVariances', k],
      ['residualVariance', 1],
    ],
    data: encodeFloat32Base64([
      new Float32Array(inputs * 4),
      Float32Array.of(1, -1, -2, 2.5),
      new Float32Array(inputs),
      Float32Array.of(gateBias),
      new Float32Array(pcaSize),
      new Float32Array(pcaSize * k),
      Float32Array.of(1, 1),
      Float32Array.of(1),
    ]),
  };
}

/** A one-head @2 head on the pooled vector of `mobilenet-v2-mid` and block 3 of `mobilenet-v2`, predicting its bias. */
function twoBackboneHead(block3Channels: number): SerializedHead {
  const featureSize = 1792 + block3Channels;
  const inputs = featureSize + nStats;
  const k = 2;
  return {
    format: 'emofeedback-local-head@2',
    id: 'local:test-two-backbones',
    backbone: 'mobilenet-v2-mid',
    featureSize,
    endpoints: [['pool', 1792]],
    secondBackbone: { backbone: 'mobilenet-v2', endpoints: [['block3', block3Channels]] },
    pcaFeatureSize: 1792,
    featureTransform: 'sqrt',
    useImageStats: true,
    pcaComponents: k,
    naturalness: { mean: 0, std: 1 },
    imageStatLimits: { highFreq: 1, clipped: 1 },
    trainedOn: 'test',
    layout: [
      ['weights', inputs * 2],
      ['bias', 2],
      ['pcaMean', 1792],
      ['pcaBasis', 1792 * k],
      ['pcaVariances', k],
      ['residualVariance', 1],
    ],
    data: encodeFloat32Base64([
      new Float32Array(inputs * 2),
      Float32Array.of(-1.25, 0.5),
      new Float32Array(1792),
      new Float32Array(1792 * k),
      Float32Array.of(1, 1),
      Float32Array.of(1),
    ]),
  };
}

describe('decodeHead', () => {
  it('decodes the shipped heads: a gated multi-layer reward model and a two-backbone judge', () => {
    const local = decodeHead(LOCAL_HEAD);
    expect(local.heads).toBe(2);
    expect(local.endpoints?.[0]).toBe('pool');
    expect(local.endpoints?.length).toBeGreaterThan(1);
    expect(local.pcaFeatureSize).toBeLessThan(local.featureSize);
    expect(local.gateWeights).toHaveLength(local.featureSize + nStats);
    expect(local.weights).toHaveLength((local.featureSize + nStats) * 4);
    const judge = decodeHead(JUDGE_HEAD);
    expect(judge.heads).toBe(1);
    expect(judge.endpoints?.[0]).toBe('pool');
    expect(judge.gateWeights).toBeUndefined();
    expect(judge.pcaFeatureSize).toBeLessThan(judge.featureSize);
    expect(judge.backbone).not.toBe(local.backbone);
    // The judge's second backbone is the reward model's, read only at blocks it does not use.
    expect(judge.secondBackbone?.backbone).toBe(local.backbone);
    for (const e of judge.secondBackbone?.endpoints ?? []) expect(local.endpoints).not.toContain(e);
  });

  it('rejects format-@2 fields in an @1 head and inconsistent sizes', () => {
    const head = constantGatedHead(0);
    expect(() => decodeHead({ ...head, format: 'emofeedback-local-head@1' })).toThrow(InvalidArgumentError);
    expect(() => decodeHead({ ...head, featureSize: head.featureSize + 1 })).toThrow(/endpoints add up/);
    expect(() => decodeHead({ ...head, pcaFeatureSize: head.featureSize + 1 })).toThrow(/pcaFeatureSize/);
    expect(() => decodeHead({ ...head, domainGate: false })).toThrow(/weights/);
    expect(() => decodeHead(head)).not.toThrow();
    const second = { backbone: 'mobilenet-v2' as const, endpoints: [['block3', 144]] as const };
    expect(() => decodeHead({ ...head, format: 'emofeedback-local-head@1', secondBackbone: second })).toThrow(
      /need format @2/,
    );
    expect(() => decodeHead({ ...head, secondBackbone: second })).toThrow(/endpoints add up/);
    expect(() => decodeHead({ ...head, secondBackbone: { ...second, backbone: 'resnet' as never } })).toThrow(
      /unknown second backbone/,
    );
  });
});

describe('createLocalEvaluatorFromHead with a gated head', () => {
  const rng = new SeededRandom(3);
  const images: RgbImage[] = Array.from({ length: 3 }, () => ({
    width: 32,
    height: 32,
    data: rng.uniformArray(32 * 32 * 3),
  }));

  beforeAll(async () => {
    await ready({ device: 'wasm' });
  });

  it('mixes the photo and silhouette heads by the gate: (1 − g)·photo + g·silhouette', async () => {
    for (const [gateBias, valence, arousal] of [
      [-40, 1, -1],
      [40, -2, 2.5],
      [0, -0.5, 0.75],
    ] as const) {
      const evaluator = await createLocalEvaluatorFromHead(constantGatedHead(gateBias));
      try {
        const s = await evaluator.score(images);
        for (let i = 0; i < images.length; i++) {
          expect(s.valence[i]).toBeCloseTo(valence, 5);
          expect(s.arousal[i]).toBeCloseTo(arousal, 5);
        }
      } finally {
        evaluator.dispose();
      }
    }
  });

  it('refuses a head whose endpoints give a different number of features', async () => {
    // Decodes (the sizes it states add up), but block 16 has 1344 channels, not 816.
    const head: SerializedHead = {
      ...constantGatedHead(0),
      endpoints: [
        ['pool', 1792],
        ['block16', 816],
      ],
    };
    expect(() => decodeHead(head)).not.toThrow();
    await expect(createLocalEvaluatorFromHead(head)).rejects.toThrow(
      /expects 2608 features but .* gives 3136/,
    );
  });

  it('reads a second backbone after the first, and checks its feature count', async () => {
    const evaluator = await createLocalEvaluatorFromHead(twoBackboneHead(144));
    try {
      expect(evaluator.head.secondBackbone).toEqual({ backbone: 'mobilenet-v2', endpoints: ['block3'] });
      const s = await evaluator.score(images);
      expect(s.valence[0]).toBeCloseTo(-1.25, 5);
      expect(s.arousal[2]).toBeCloseTo(0.5, 5);
    } finally {
      evaluator.dispose();
    }
    // The 1.0 network's block 3 mean has 144 channels; stated as 100 the head decodes but cannot load.
    expect(() => decodeHead(twoBackboneHead(100))).not.toThrow();
    await expect(createLocalEvaluatorFromHead(twoBackboneHead(100))).rejects.toThrow(
      /expects 1892 features but mobilenet-v2-mid and mobilenet-v2 give 1936/,
    );
  });
});
