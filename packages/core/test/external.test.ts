import { createOpenAI } from '@ai-sdk/openai';
import type { ImageModelV4 } from '@ai-sdk/provider';
import { encode as encodePng } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeImage,
  defaultEmotionPrompt,
  emotionPhrase,
  fromImageModel,
  type ImageModelLike,
  InvalidArgumentError,
  ProviderError,
  redactSecrets,
  resizeImage,
  TimeoutError,
} from '../src/index.js';
import { type ImageServer, promptColour, startImageServer } from './support/image-server.js';

const API_KEY = 'sk-test-0123456789abcdef-SECRET';
let server: ImageServer;

beforeAll(async () => {
  server = await startImageServer();
});
afterAll(async () => {
  await server.close();
});

function model(id = 'dall-e-3') {
  return createOpenAI({ baseURL: server.url, apiKey: API_KEY }).image(id);
}

function meanColour(data: Float32Array): [number, number, number] {
  const sum = [0, 0, 0];
  for (let i = 0; i < data.length; i++) (sum[i % 3] as number) += data[i] as number;
  const n = data.length / 3;
  return [(sum[0] as number) / n, (sum[1] as number) / n, (sum[2] as number) / n].map((v) =>
    Math.round(v * 255),
  ) as [number, number, number];
}

const happy = { valence: 2.5, arousal: 1 };
const fearful = { valence: -1.2, arousal: 2.5 };

describe('emotionPhrase', () => {
  it('names the nearest circumplex word with intensity and axis words', () => {
    expect(emotionPhrase({ valence: 2.5, arousal: 1 })).toBe(
      'an intensely delighted mood, very pleasant and energetic',
    );
    expect(emotionPhrase(fearful)).toBe(
      'an intensely afraid mood, unpleasant and highly energetic and intense',
    );
    expect(emotionPhrase({ valence: -1.5, arousal: -1 })).toMatch(
      /^a clearly (sad|gloomy|depressed|miserable) mood, unpleasant/,
    );
    expect(emotionPhrase({ valence: 0.1, arousal: -0.2 })).toMatch(/^a neutral mood/);
    expect(emotionPhrase({ valence: 1, arousal: -1.2 })).toMatch(/calm and quiet$/);
    expect(() => emotionPhrase({ valence: 4, arousal: 0 })).toThrow();
    expect(defaultEmotionPrompt('a dog ', happy)).toBe(`a dog, evoking ${emotionPhrase(happy)}`);
  });
});

describe('decodeImage / resizeImage', () => {
  it('decodes PNG (RGBA, grey, base64) and area-averages when shrinking', () => {
    const rgba = new Uint8Array(4 * 4 * 4);
    for (let p = 0; p < 16; p++) rgba.set(p % 2 === 0 ? [255, 0, 0, 255] : [0, 0, 255, 255], p * 4);
    const png = encodePng({ width: 4, height: 4, data: rgba, channels: 4 });
    const img = decodeImage(Buffer.from(png).toString('base64'));
    expect(img.width).toBe(4);
    expect(Array.from(img.data.slice(0, 6))).toEqual([1, 0, 0, 0, 0, 1]);
    const small = resizeImage(img, 2);
    expect(Array.from(small.data.slice(0, 3))).toEqual([0.5, 0, 0.5]);
    const grey = decodeImage(encodePng({ width: 2, height: 1, data: new Uint8Array([0, 255]), channels: 1 }));
    expect(Array.from(grey.data)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(resizeImage(img, 8).width).toBe(8);
    expect(() => decodeImage(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))).toThrow(/neither PNG nor JPEG/);
  });
});

describe('fromImageModel over a loopback OpenAI images API', () => {
  it('sends the prompt with the emotion phrase and decodes the PNG at the requested size', async () => {
    const generator = fromImageModel(model(), { size: 32, retryDelayMs: 5 });
    expect(generator.id).toBe('external:dall-e-3');
    const progress: number[] = [];
    const images = await generator.generate(
      { prompts: ['a dog on a beach', 'a spider'], emotions: [happy, fearful], seeds: [1, 2] },
      { onProgress: (p) => progress.push(p.done) },
    );
    expect(images.map((i) => [i.width, i.height])).toEqual([
      [32, 32],
      [32, 32],
    ]);
    const sent = server.requests.slice(-2).map((r) => String(r.body.prompt));
    expect(sent.sort()).toEqual(
      [defaultEmotionPrompt('a dog on a beach', happy), defaultEmotionPrompt('a spider', fearful)].sort(),
    );
    expect(meanColour((images[0] as { data: Float32Array }).data)).toEqual(
      promptColour(defaultEmotionPrompt('a dog on a beach', happy)),
    );
    expect(meanColour((images[1] as { data: Float32Array }).data)).toEqual(
      promptColour(defaultEmotionPrompt('a spider', fearful)),
    );
    expect(server.requests.at(-1)?.authorization).toBe(`Bearer ${API_KEY}`);
    expect(progress.sort()).toEqual([1, 2]);
  });

  it('uses a custom prompt template and decodes JPEG', async () => {
    server.enqueue({ jpeg: true });
    const generator = fromImageModel(model(), {
      size: 16,
      promptTemplate: (p, e) => `${p} | v=${e.valence} a=${e.arousal}`,
    });
    const [image] = await generator.generate({ prompts: ['a cat'], emotions: [happy], seeds: [3] });
    expect(server.requests.at(-1)?.body.prompt).toBe('a cat | v=2.5 a=1');
    const expected = promptColour('a cat | v=2.5 a=1');
    meanColour((image as { data: Float32Array }).data).forEach((c, k) => {
      expect(Math.abs(c - (expected[k] as number))).toBeLessThanOrEqual(4);
    });
  });

  it('retries a 429 then succeeds', async () => {
    server.enqueue({ status: 429, headers: { 'retry-after': '0' } }, { status: 503 });
    const before = server.requests.length;
    const generator = fromImageModel(model(), { retryDelayMs: 5, size: 8 });
    const images = await generator.generate({ prompts: ['a heart'], emotions: [happy], seeds: [1] });
    expect(images).toHaveLength(1);
    expect(server.requests.length - before).toBe(3);
  });

  it('gives up on persistent 500s with a ProviderError that hides the API key', async () => {
    const leaky = JSON.stringify({
      error: { message: `upstream rejected key ${API_KEY} (Bearer ${API_KEY})` },
    });
    server.enqueue({ status: 500, body: leaky }, { status: 500, body: leaky }, { status: 500, body: leaky });
    const generator = fromImageModel(model(), { retryDelayMs: 2, maxRetries: 2, size: 8 });
    const error = await generator
      .generate({ prompts: ['a skull'], emotions: [fearful], seeds: [1] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe('server');
    expect((error as ProviderError).message).toMatch(/after 3 attempts: HTTP 500/);
    const serialised = JSON.stringify(error, Object.getOwnPropertyNames(error));
    expect(serialised).not.toContain('SECRET');
    expect(String((error as Error).stack)).not.toContain('SECRET');
  });

  it('does not retry a 400', async () => {
    server.enqueue({ status: 400 });
    const before = server.requests.length;
    const generator = fromImageModel(model(), { retryDelayMs: 2, size: 8 });
    await expect(generator.generate({ prompts: ['x'], emotions: [happy], seeds: [1] })).rejects.toMatchObject(
      {
        code: 'PROVIDER',
        kind: 'client',
      },
    );
    expect(server.requests.length - before).toBe(1);
  });

  it('times out a slow response', async () => {
    server.enqueue({ delayMs: 1500 });
    const generator = fromImageModel(model(), { timeoutMs: 150, size: 8 });
    const started = Date.now();
    await expect(
      generator.generate({ prompts: ['slow'], emotions: [happy], seeds: [1] }),
    ).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeLessThan(1200);
  });

  it('reports malformed bodies and missing images as malformed-response', async () => {
    server.enqueue({ malformed: true });
    const generator = fromImageModel(model(), { retryDelayMs: 2, size: 8 });
    await expect(generator.generate({ prompts: ['x'], emotions: [happy], seeds: [1] })).rejects.toMatchObject(
      {
        kind: 'malformed-response',
      },
    );
    server.enqueue({ noImage: true });
    await expect(generator.generate({ prompts: ['x'], emotions: [happy], seeds: [1] })).rejects.toMatchObject(
      {
        kind: 'malformed-response',
      },
    );
  });

  it('aborts with the caller signal', async () => {
    server.enqueue({ delayMs: 1000 });
    const generator = fromImageModel(model(), { size: 8 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop')), 50);
    await expect(
      generator.generate({ prompts: ['x'], emotions: [happy], seeds: [1] }, { signal: controller.signal }),
    ).rejects.toThrow('stop');
  });

  it('validates requests', async () => {
    const generator = fromImageModel(model());
    await expect(generator.generate({ prompts: [], emotions: [], seeds: [] })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(
      generator.generate({ prompts: ['a'], emotions: [{ valence: 9, arousal: 0 }], seeds: [1] }),
    ).rejects.toMatchObject({ code: 'INVALID_EMOTION' });
    expect(() => fromImageModel({} as ImageModelLike)).toThrow(InvalidArgumentError);
  });
});

describe('fromImageModel with a seeded in-memory model', () => {
  it('passes seeds through and bounds concurrency', async () => {
    let active = 0;
    let peak = 0;
    const seen: (number | undefined)[] = [];
    const png = Buffer.from(
      encodePng({ width: 4, height: 4, data: new Uint8Array(64).fill(200), channels: 4 }),
    );
    const fake: ImageModelV4 = {
      specificationVersion: 'v4',
      provider: 'fake',
      modelId: 'fake-1',
      maxImagesPerCall: 1,
      async doGenerate(options) {
        seen.push(options.seed);
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 10));
        active--;
        return {
          images: [new Uint8Array(png)],
          warnings: [],
          response: { timestamp: new Date(), modelId: 'fake-1', headers: undefined },
        };
      },
    };
    const generator = fromImageModel(fake, { concurrency: 2, size: 4 });
    const images = await generator.generate({
      prompts: ['a', 'b', 'c', 'd', 'e'],
      emotions: Array(5).fill(happy),
      seeds: [10, 11, 12, 13, 14],
    });
    expect(images).toHaveLength(5);
    expect(seen.sort()).toEqual([10, 11, 12, 13, 14]);
    expect(peak).toBe(2);
  });

  it('masks key shapes in messages', () => {
    expect(redactSecrets('bad key sk-abcdef123456 and Bearer xyz.123', [])).toBe(
      'bad key [redacted] and Bearer [redacted]',
    );
    expect(redactSecrets('https://x.test/v1?key=AIzaSECRET&x=1')).toBe(
      'https://x.test/v1?key=[redacted]&x=1',
    );
    expect(redactSecrets('my token is hunter22', ['hunter22'])).toBe('my token is [redacted]');
  });
});
