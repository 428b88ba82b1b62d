// Your own generator: anything that turns (prompt, emotion, seed) into an image can stand in for
// the shipped one. This one is a small procedural painter, standing for your model: a landscape
// whose light, colours and horizon follow the target emotion and a few words of the prompt.
// Swap its body for a call to your model (a local diffusion server, an ONNX or tfjs model, a
// hosted API) and keep the interface.
import {
  emotion,
  type GenerateOptions,
  type GenerationRequest,
  type Generator,
  InvalidArgumentError,
  type RgbImage,
  SeededRandom,
} from '@emofeedback/core';

type Rgb = [number, number, number];

export interface SkyGeneratorOptions {
  /** Side of the square images in pixels; default 64. */
  readonly size?: number;
}

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [
  a[0] + (b[0] - a[0]) * t,
  a[1] + (b[1] - a[1]) * t,
  a[2] + (b[2] - a[2]) * t,
];
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** Scales a colour's saturation around its grey value. */
function saturate(c: Rgb, amount: number): Rgb {
  const grey = (c[0] + c[1] + c[2]) / 3;
  return [grey + (c[0] - grey) * amount, grey + (c[1] - grey) * amount, grey + (c[2] - grey) * amount];
}

/** What a prompt asks for, from a few keywords. */
function readPrompt(prompt: string) {
  const p = prompt.toLowerCase();
  const has = (...words: string[]) => words.some((w) => p.includes(w));
  return {
    night: has('night', 'dark'),
    dusk: has('dusk', 'golden hour', 'sunset'),
    bright: has('daylight', 'sunny', 'bright', 'flickering'),
    fog: has('fog', 'mist'),
    snow: has('snow'),
    rain: has('rain'),
    storm: has('thunderstorm', 'lightning', 'storm'),
    warm: has('warm', 'golden'),
    cool: has('cool', 'blue', 'cold', 'grey'),
    pastel: has('pastel', 'soft'),
    vivid: has('vivid', 'saturated'),
    muted: has('muted'),
    sea: has('sea', 'ocean', 'lake', 'beach'),
  };
}

/**
 * A {@link Generator} that paints landscapes. Valence sets warmth and brightness, arousal sets
 * saturation, contrast and how jagged the horizon is; the prompt's light, weather and palette
 * words shift them; the seed places the sun, the hills and the weather. Deterministic: the same
 * (prompt, emotion, seed) always gives the same image.
 */
export class SkyGenerator implements Generator {
  readonly id: string;
  private readonly size: number;

  constructor(options: SkyGeneratorOptions = {}) {
    this.size = options.size ?? 64;
    if (!Number.isInteger(this.size) || this.size < 8 || this.size > 1024)
      throw new InvalidArgumentError('size', 'expected an integer from 8 to 1024.');
    this.id = `procedural-sky-${this.size}@1`;
  }

  async generate(request: GenerationRequest, options: GenerateOptions = {}): Promise<RgbImage[]> {
    const { prompts, emotions, seeds } = request;
    if (prompts.length !== emotions.length || prompts.length !== seeds.length)
      throw new InvalidArgumentError('request', 'prompts, emotions and seeds must have the same length.');
    const images: RgbImage[] = [];
    for (let i = 0; i < prompts.length; i++) {
      options.signal?.throwIfAborted();
      images.push(this.paint(prompts[i] as string, emotion(emotions[i]!), seeds[i] as number));
      options.onProgress?.({ done: i + 1, total: prompts.length, stage: 'paint' });
    }
    return images;
  }

  private paint(prompt: string, e: { valence: number; arousal: number }, seed: number): RgbImage {
    const n = this.size;
    const rng = new SeededRandom(seed);
    const words = readPrompt(prompt);
    const v = e.valence / 3; // [-1, 1]
    const a = e.arousal / 3;

    // Colours: the four corners of the valence-arousal square, blended; the prompt's light,
    // palette and weather words shift them.
    const corners = (pp: Rgb, pc: Rgb, up: Rgb, uc: Rgb): Rgb =>
      mix(mix(uc, up, (a + 1) / 2), mix(pc, pp, (a + 1) / 2), (v + 1) / 2);
    let skyTop = corners([1.0, 0.55, 0.15], [0.55, 0.78, 0.98], [0.55, 0.04, 0.03], [0.22, 0.25, 0.3]);
    let ground = words.sea
      ? corners([0.05, 0.55, 0.75], [0.35, 0.6, 0.75], [0.2, 0.05, 0.08], [0.15, 0.18, 0.22])
      : corners([0.55, 0.85, 0.1], [0.45, 0.68, 0.4], [0.22, 0.04, 0.02], [0.24, 0.22, 0.2]);
    let light = 1;
    if (words.night) light *= 0.45;
    if (words.dusk) light *= 0.8;
    if (words.storm) light *= 0.7;
    if (words.bright) light = Math.min(1.4, light * 1.3);
    let sat = 1;
    if (words.vivid) sat *= 1.5;
    if (words.pastel || words.fog) sat *= 0.6;
    if (words.muted) sat *= 0.5;
    const shift = (c: Rgb): Rgb => {
      let out = saturate(c, sat).map((ch) => ch * light) as Rgb;
      if (words.warm) out = mix(out, [out[0] * 1.2 + 0.05, out[1] * 1.05, out[2] * 0.8], 1);
      if (words.cool) out = mix(out, [out[0] * 0.8, out[1] * 0.95, out[2] * 1.2 + 0.05], 1);
      return out;
    };
    skyTop = shift(skyTop);
    ground = shift(ground);
    const skyLow = mix(skyTop, [1, 0.95, 0.85], 0.25 + 0.15 * v);
    const contrast = 0.75 + 0.35 * a + (words.fog ? -0.35 : 0);

    // Horizon: calm is flat and low, excited jagged and high.
    const base = n * (0.62 - 0.08 * a);
    const roughness = n * (0.02 + 0.12 * Math.max(0, a + 0.3));
    const phases = [rng.uniform(0, 6.28), rng.uniform(0, 6.28), rng.uniform(0, 6.28)];
    const horizon = Array.from({ length: n }, (_, x) => {
      const t = x / n;
      return (
        base -
        roughness *
          (Math.sin(t * 6.28 * 1.5 + phases[0]!) +
            0.6 * Math.sin(t * 6.28 * 4 + phases[1]!) +
            (a > 0 ? 0.5 * a * Math.sin(t * 6.28 * 11 + phases[2]!) : 0))
      );
    });
    const sun = { x: rng.uniform(0.2, 0.8) * n, y: rng.uniform(0.15, 0.4) * n, r: n * (0.08 + 0.04 * v) };
    const sunColour: Rgb = words.night
      ? [0.85, 0.88, 0.95]
      : mix([1, 0.7, 0.3], [1, 0.98, 0.85], (v + 1) / 2);

    const data = new Float32Array(n * n * 3);
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        let c: Rgb;
        if (y < horizon[x]!) {
          c = mix(skyTop, skyLow, y / Math.max(1, horizon[x]!));
          const d = Math.hypot(x - sun.x, y - sun.y);
          if (d < sun.r) c = sunColour;
          else if (d < sun.r * 2.2) c = mix(sunColour, c, (d - sun.r) / (sun.r * 1.2));
        } else {
          const depth = (y - horizon[x]!) / Math.max(1, n - horizon[x]!);
          c = mix(ground, ground.map((g) => g * 0.55) as Rgb, depth);
        }
        // Contrast around mid-grey, then fog, texture and weather.
        c = c.map((ch) => 0.5 + (ch - 0.5) * contrast) as Rgb;
        if (words.fog) c = mix(c, [0.78, 0.8, 0.82], 0.45);
        const grain = rng.normal(0, 0.015 + 0.05 * Math.max(0, a));
        c = c.map((ch) => ch + grain) as Rgb;
        data.set(c.map(clamp01), (y * n + x) * 3);
      }
    }
    if (words.snow || words.rain) {
      const flakes = Math.round(n * n * 0.03);
      for (let k = 0; k < flakes; k++) {
        const x = rng.int(0, n);
        const y0 = rng.int(0, n);
        const length = words.rain ? 3 : 1;
        for (let y = y0; y < Math.min(n, y0 + length); y++)
          data.set(words.rain ? [0.6, 0.65, 0.75] : [0.95, 0.95, 0.97], (y * n + x) * 3);
      }
    }
    if (words.storm) {
      let x = rng.int(Math.floor(n * 0.3), Math.floor(n * 0.7));
      for (let y = 0; y < Math.floor(n * 0.5); y++) {
        x = Math.min(n - 1, Math.max(0, x + rng.int(-1, 2)));
        data.set([1, 1, 0.9], (y * n + x) * 3);
      }
    }
    return { width: n, height: n, data };
  }
}
