import { describe, expect, it } from 'vitest';
import {
  EKMAN_EMOTIONS,
  emotion,
  InvalidArgumentError,
  MIKELS_EMOTIONS,
  namedEmotion,
} from '../src/index.js';

describe('named emotion anchors', () => {
  it('has the 8 Mikels and 6 Ekman categories, all valid emotions', () => {
    expect(Object.keys(MIKELS_EMOTIONS).sort()).toEqual(
      ['amusement', 'anger', 'awe', 'contentment', 'disgust', 'excitement', 'fear', 'sadness'].sort(),
    );
    expect(Object.keys(EKMAN_EMOTIONS).sort()).toEqual(
      ['anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise'].sort(),
    );
    for (const e of [...Object.values(MIKELS_EMOTIONS), ...Object.values(EKMAN_EMOTIONS)]) emotion(e);
  });

  it('puts the categories in the quadrants the circumplex gives them', () => {
    expect(namedEmotion('fear').valence).toBeLessThan(0);
    expect(namedEmotion('fear').arousal).toBeGreaterThan(0);
    expect(namedEmotion('sadness').valence).toBeLessThan(0);
    expect(namedEmotion('sadness').arousal).toBeLessThan(0);
    expect(namedEmotion('contentment').valence).toBeGreaterThan(0);
    expect(namedEmotion('contentment').arousal).toBeLessThan(0);
    expect(namedEmotion('Excitement').valence).toBeGreaterThan(0);
    expect(namedEmotion('excitement').arousal).toBeGreaterThan(0);
    expect(namedEmotion('neutral')).toEqual({ valence: 0, arousal: 0 });
  });

  it('rejects unknown names listing the known ones', () => {
    expect(() => namedEmotion('schadenfreude')).toThrow(InvalidArgumentError);
    expect(() => namedEmotion('schadenfreude')).toThrow(/known: .*fear/);
  });
});
