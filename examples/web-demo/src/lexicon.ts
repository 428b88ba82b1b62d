import { LIGHT_AFFECT, PALETTE_HUE_AFFECT, WEATHER_AFFECT } from '@emofeedback/core';
import type { DescriptorEffect } from '@emofeedback/feedback';

// Phrases as the shipped generator's training captions write them.
const LIGHT: Record<keyof typeof LIGHT_AFFECT, string> = {
  daylight: 'in bright daylight',
  'golden hour': 'at golden hour',
  dusk: 'at dusk',
  night: 'at night',
  'harsh light': 'under harsh flickering light',
};
const WEATHER: Record<keyof typeof WEATHER_AFFECT, string> = {
  clear: 'clear skies',
  rain: 'heavy rain',
  fog: 'thick fog',
  snow: 'falling snow',
  storm: 'a thunderstorm with lightning',
};
// Palettes also move brightness and saturation; these rough totals add that colour term.
const PALETTE: Record<keyof typeof PALETTE_HUE_AFFECT, { phrase: string; colour: [number, number] }> = {
  warm: { phrase: 'warm colours', colour: [0.2, 0.3] },
  cool: { phrase: 'cool blue tones', colour: [0, -0.2] },
  pastel: { phrase: 'soft pastel colours', colour: [0.6, -0.6] },
  vivid: { phrase: 'vivid saturated colours', colour: [0.5, 0.9] },
  grey: { phrase: 'cold grey colours', colour: [-0.6, -0.5] },
  dark: { phrase: 'dark, shadowy colours', colour: [-1.0, 0.2] },
};

/**
 * The descriptor lexicon of the offline critic: the light, weather and palette phrases of the
 * procedural scenes the shipped generator learned from, with their designed effects on valence
 * and arousal (one descriptor per group in a prompt).
 */
export function sceneLexicon(): DescriptorEffect[] {
  const out: DescriptorEffect[] = [];
  for (const [key, phrase] of Object.entries(LIGHT)) {
    const [valence, arousal] = LIGHT_AFFECT[key as keyof typeof LIGHT_AFFECT];
    out.push({ phrase, valence, arousal, group: 'light' });
  }
  for (const [key, phrase] of Object.entries(WEATHER)) {
    const [valence, arousal] = WEATHER_AFFECT[key as keyof typeof WEATHER_AFFECT];
    out.push({ phrase, valence, arousal, group: 'weather' });
  }
  for (const [key, { phrase, colour }] of Object.entries(PALETTE)) {
    const [valence, arousal] = PALETTE_HUE_AFFECT[key as keyof typeof PALETTE_HUE_AFFECT];
    out.push({ phrase, valence: valence + colour[0], arousal: arousal + colour[1], group: 'palette' });
  }
  return out;
}
