import { describe, expect, it } from 'vitest';
import {
  describeScene,
  emotionDistance,
  InvalidArgumentError,
  renderScene,
  SCENE_LIGHTS,
  SCENE_PALETTES,
  SCENE_SETTINGS,
  SCENE_SUBJECTS,
  SCENE_WEATHERS,
  type SceneSpec,
  SeededRandom,
  SUBJECT_PLURALS,
  sampleScene,
  sampleSceneForEmotion,
  sceneEmotion,
} from '../src/index.js';

const base: SceneSpec = {
  version: 1,
  subject: 'flower',
  setting: 'meadow',
  light: 'daylight',
  weather: 'clear',
  palette: 'vivid',
  saturation: 0.5,
  brightness: 0.5,
  count: 1,
  x: 0.5,
  y: 0.58,
  scale: 0.55,
  seed: 11,
};

function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] as number) - (b[i] as number));
  return s / a.length;
}

function checkPixels(data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!(v >= 0 && v <= 1)) throw new Error(`pixel ${i} = ${v}`);
  }
}

describe('sampleScene', () => {
  it('is deterministic and JSON-serialisable', () => {
    const a = sampleScene(new SeededRandom(5));
    const b = sampleScene(new SeededRandom(5));
    expect(a).toEqual(b);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    expect(sampleScene(new SeededRandom(6))).not.toEqual(a);
  });

  it('honours fixed attributes and rejects unknown ones', () => {
    const spec = sampleScene(new SeededRandom(1), { subject: 'spider', weather: 'storm', count: 3 });
    expect(spec.subject).toBe('spider');
    expect(spec.weather).toBe('storm');
    expect(spec.count).toBe(3);
    expect(sampleScene(new SeededRandom(1), { subject: 'sun', count: 3 }).count).toBe(1);
    expect(() => sampleScene(new SeededRandom(1), { subject: 'unicorn' as never })).toThrow(
      InvalidArgumentError,
    );
  });
});

describe('renderScene', () => {
  it('is deterministic', () => {
    const spec = sampleScene(new SeededRandom(3), { weather: 'storm' });
    expect(renderScene(spec, { size: 32 }).data).toEqual(renderScene(spec, { size: 32 }).data);
  });

  it('renders every subject and setting at 32 and 64 px within [0, 1]', () => {
    const rng = new SeededRandom(9);
    for (const subject of SCENE_SUBJECTS) {
      for (const size of [32, 64]) {
        const img = renderScene(sampleScene(rng, { subject }), { size });
        expect(img.width).toBe(size);
        expect(img.data.length).toBe(size * size * 3);
        checkPixels(img.data);
      }
    }
    for (const setting of SCENE_SETTINGS) {
      for (const size of [32, 64]) checkPixels(renderScene(sampleScene(rng, { setting }), { size }).data);
    }
    for (const light of SCENE_LIGHTS) checkPixels(renderScene({ ...base, light }, { size: 32 }).data);
    for (const weather of SCENE_WEATHERS) checkPixels(renderScene({ ...base, weather }, { size: 32 }).data);
    for (const palette of SCENE_PALETTES) checkPixels(renderScene({ ...base, palette }, { size: 32 }).data);
  });

  it('draws different subjects differently', () => {
    const images = SCENE_SUBJECTS.map((subject) => renderScene({ ...base, subject }, { size: 32 }).data);
    for (let i = 0; i < images.length; i++) {
      for (let j = i + 1; j < images.length; j++) {
        expect(meanAbsDiff(images[i] as Float32Array, images[j] as Float32Array)).toBeGreaterThan(0.01);
      }
    }
  });

  it('draws settings, light and weather differently', () => {
    const ref = renderScene(base, { size: 32 }).data;
    for (const setting of SCENE_SETTINGS.filter((s) => s !== base.setting)) {
      expect(meanAbsDiff(renderScene({ ...base, setting }, { size: 32 }).data, ref)).toBeGreaterThan(0.03);
    }
    for (const light of SCENE_LIGHTS.filter((s) => s !== base.light)) {
      expect(meanAbsDiff(renderScene({ ...base, light }, { size: 32 }).data, ref)).toBeGreaterThan(0.03);
    }
    for (const weather of SCENE_WEATHERS.filter((s) => s !== base.weather)) {
      expect(meanAbsDiff(renderScene({ ...base, weather }, { size: 32 }).data, ref)).toBeGreaterThan(0.02);
    }
  });

  it('rejects malformed specs and sizes', () => {
    expect(() => renderScene({ ...base, subject: 'unicorn' as never }, { size: 32 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => renderScene({ ...base, brightness: 2 }, { size: 32 })).toThrow(InvalidArgumentError);
    expect(() => renderScene(base, { size: 3 })).toThrow(InvalidArgumentError);
  });
});

describe('describeScene', () => {
  it('names the subject and setting, and no other subject', () => {
    const rng = new SeededRandom(21);
    const phrasings = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const spec = sampleScene(rng);
      const caption = describeScene(spec, rng);
      phrasings.add(caption.replace(spec.subject, '').slice(0, 12));
      expect(caption).toContain(spec.count === 1 ? spec.subject : SUBJECT_PLURALS[spec.subject]);
      expect(caption).toContain(spec.setting);
      for (const other of SCENE_SUBJECTS.filter((s) => s !== spec.subject)) {
        expect(caption).not.toMatch(new RegExp(`\\b${other}s?\\b`));
      }
    }
    expect(phrasings.size).toBeGreaterThan(10);
    const spec = sampleScene(new SeededRandom(2));
    expect(describeScene(spec)).toBe(describeScene(spec));
  });
});

describe('sceneEmotion', () => {
  it('stays within [-3, 3] and covers every cell of the 5×5 grid', () => {
    const rng = new SeededRandom(4);
    const cells = new Set<string>();
    const cell = (x: number) => Math.min(4, Math.floor((x + 3) / 1.2));
    for (let i = 0; i < 3000; i++) {
      const e = sceneEmotion(sampleScene(rng));
      expect(Math.abs(e.valence)).toBeLessThanOrEqual(3);
      expect(Math.abs(e.arousal)).toBeLessThanOrEqual(3);
      cells.add(`${cell(e.valence)},${cell(e.arousal)}`);
    }
    expect(cells.size).toBe(25);
  });

  it('follows Valdez & Mehrabian: brightness raises valence, saturation raises arousal', () => {
    const dim = sceneEmotion({ ...base, brightness: 0.2 });
    const bright = sceneEmotion({ ...base, brightness: 0.8 });
    expect(bright.valence).toBeGreaterThan(dim.valence);
    expect(bright.arousal).toBeLessThan(dim.arousal);
    const dull = sceneEmotion({ ...base, saturation: 0.1 });
    const vivid = sceneEmotion({ ...base, saturation: 0.9 });
    expect(vivid.arousal).toBeGreaterThan(dull.arousal);
    expect(vivid.valence).toBeGreaterThan(dull.valence);
  });

  it('rates threatening subjects and storms as unpleasant and arousing', () => {
    const flower = sceneEmotion(base);
    const spider = sceneEmotion({ ...base, subject: 'spider' });
    expect(spider.valence).toBeLessThan(flower.valence - 1);
    expect(spider.arousal).toBeGreaterThan(flower.arousal + 1);
    const storm = sceneEmotion({ ...base, weather: 'storm' });
    expect(storm.arousal).toBeGreaterThan(flower.arousal);
    const fog = sceneEmotion({ ...base, weather: 'fog' });
    expect(fog.arousal).toBeLessThan(flower.arousal);
  });
});

describe('sampleSceneForEmotion', () => {
  it('finds scenes near targets across the square', () => {
    const rng = new SeededRandom(8);
    for (const target of [
      { valence: 2, arousal: 1.5 },
      { valence: -2, arousal: 1.5 },
      { valence: -1.5, arousal: -1.5 },
      { valence: 1.5, arousal: -2 },
      { valence: 0, arousal: 0 },
    ]) {
      const spec = sampleSceneForEmotion(target, rng);
      expect(emotionDistance(sceneEmotion(spec), target)).toBeLessThan(0.8);
    }
    const a = sampleSceneForEmotion({ valence: 1, arousal: 1 }, new SeededRandom(1));
    expect(sampleSceneForEmotion({ valence: 1, arousal: 1 }, new SeededRandom(1))).toEqual(a);
    expect(
      sampleSceneForEmotion({ valence: 1, arousal: 1 }, new SeededRandom(1), { subject: 'dog' }).subject,
    ).toBe('dog');
  });
});
