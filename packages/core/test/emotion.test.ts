import { describe, expect, it } from 'vitest';
import {
  clampEmotion,
  EmoFeedbackError,
  emotion,
  emotionDistance,
  emotionErrors,
  emotionGrid,
  InvalidEmotionError,
  validateAxis,
} from '../src/index.js';

describe('emotion validation', () => {
  it('accepts values on the canonical scale and freezes them', () => {
    const e = emotion({ valence: -3, arousal: 2.5 });
    expect(e).toEqual({ valence: -3, arousal: 2.5 });
    expect(Object.isFrozen(e)).toBe(true);
  });

  it.each([
    ['valence', Number.NaN],
    ['valence', Number.POSITIVE_INFINITY],
    ['arousal', Number.NEGATIVE_INFINITY],
    ['arousal', 3.0001],
    ['valence', -3.5],
    ['arousal', '1'],
  ])('rejects %s = %s with a typed error naming field and value', (field, value) => {
    const input = { valence: 0, arousal: 0, [field]: value };
    let caught: unknown;
    try {
      emotion(input, 'target');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidEmotionError);
    expect(caught).toBeInstanceOf(EmoFeedbackError);
    const err = caught as InvalidEmotionError;
    expect(err.code).toBe('INVALID_EMOTION');
    expect(err.field).toBe(`target.${field}`);
    expect(err.message).toContain(`target.${field}`);
    expect(err.message).toContain('[-3, 3]');
  });

  it('rejects non-objects', () => {
    expect(() => emotion(null as never)).toThrow(InvalidEmotionError);
  });

  it('validateAxis returns the value', () => {
    expect(validateAxis('v', 1.25)).toBe(1.25);
  });

  it('clamps and zeroes non-finite values', () => {
    expect(clampEmotion({ valence: 9, arousal: Number.NaN })).toEqual({ valence: 3, arousal: 0 });
  });

  it('computes errors and distances', () => {
    expect(emotionErrors({ valence: 1, arousal: -1 }, { valence: -1, arousal: 2 })).toEqual({
      valence: 2,
      arousal: 3,
    });
    expect(emotionDistance({ valence: -1, arousal: -1 }, { valence: 2, arousal: 3 })).toBe(5);
  });

  it('builds the 5×5 grid EmotiCrafter evaluates on', () => {
    const grid = emotionGrid();
    expect(grid).toHaveLength(25);
    expect(grid[0]).toEqual({ valence: -3, arousal: -3 });
    expect(grid[24]).toEqual({ valence: 3, arousal: 3 });
    expect(new Set(grid.map((g) => `${g.valence},${g.arousal}`)).size).toBe(25);
  });
});
