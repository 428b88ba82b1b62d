import { tf } from '@emofeedback/core';

/** Side of the square thumbnail the statistics are computed on. */
export const STATS_SIZE = 64;

/** Hue bins of the saturation-weighted hue histogram. */
const HUE_BINS = 8;

/** Names of the columns {@link imageStatistics} returns, in order. */
export const IMAGE_STAT_NAMES: readonly string[] = [
  'mean_r',
  'mean_g',
  'mean_b',
  'luma_mean',
  'luma_std',
  'saturation_mean',
  'saturation_std',
  'colourfulness',
  'warmth',
  'dark_fraction',
  'bright_fraction',
  'edge_energy',
  'high_freq_energy',
  'clipped_fraction',
  ...Array.from({ length: HUE_BINS }, (_, i) => `hue_${i}`),
];

/**
 * Cheap colour and texture statistics known to carry affect (brightness and saturation raise
 * valence, saturation and contrast raise arousal, warm hues read as arousing), computed on a
 * 64×64 bilinear thumbnail so that the values do not depend on the input size:
 *
 * mean R, G, B; luma mean and std; HSV saturation mean and std; Hasler–Süsstrunk colourfulness;
 * warmth (mean R − B); fraction of dark (luma < 0.2) and bright (> 0.8) pixels; edge energy
 * (mean |∇luma|); high-frequency energy (mean |luma − 3×3 box blur|); fraction of clipped
 * channel values (≤ 1/255 or ≥ 254/255); a saturation-weighted 8-bin hue histogram.
 *
 * @param images `[N, H, W, 3]` RGB in [0, 1].
 * @returns `[N, IMAGE_STAT_NAMES.length]`; the caller disposes it.
 */
export function imageStatistics(images: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const n = images.shape[0];
    const x =
      images.shape[1] === STATS_SIZE && images.shape[2] === STATS_SIZE
        ? images
        : tf.image.resizeBilinear(images, [STATS_SIZE, STATS_SIZE], false, true);
    const [r, g, b] = tf.split(x, 3, 3) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const axes = [1, 2, 3];
    const mean = (t: tf.Tensor) => tf.mean(t, axes);
    const std = (t: tf.Tensor) => tf.sqrt(tf.add(tf.moments(t, axes).variance, 1e-12));
    const luma = tf.addN([tf.mul(r, 0.299), tf.mul(g, 0.587), tf.mul(b, 0.114)]) as tf.Tensor4D;
    const mx = tf.max(x, 3, true);
    const mn = tf.min(x, 3, true);
    const sat = tf.div(tf.sub(mx, mn), tf.add(mx, 1e-6));
    const rg = tf.sub(r, g);
    const yb = tf.sub(tf.mul(tf.add(r, g), 0.5), b);
    const rgM = tf.moments(rg, axes);
    const ybM = tf.moments(yb, axes);
    const colourfulness = tf.add(
      tf.sqrt(tf.add(tf.add(rgM.variance, ybM.variance), 1e-12)),
      tf.mul(tf.sqrt(tf.add(tf.add(tf.square(rgM.mean), tf.square(ybM.mean)), 1e-12)), 0.3),
    );
    const dx = tf.abs(
      tf.sub(
        tf.slice(luma, [0, 0, 1, 0], [-1, -1, -1, -1]),
        tf.slice(luma, [0, 0, 0, 0], [-1, -1, STATS_SIZE - 1, -1]),
      ),
    );
    const dy = tf.abs(
      tf.sub(
        tf.slice(luma, [0, 1, 0, 0], [-1, -1, -1, -1]),
        tf.slice(luma, [0, 0, 0, 0], [-1, STATS_SIZE - 1, -1, -1]),
      ),
    );
    const edge = tf.add(mean(dx), mean(dy));
    const blur = tf.avgPool(luma, 3, 1, 'same');
    const highFreq = mean(tf.abs(tf.sub(luma, blur)));
    const clipped = tf.mean(
      tf.cast(tf.logicalOr(tf.lessEqual(x, 1 / 255), tf.greaterEqual(x, 254 / 255)), 'float32'),
      axes,
    );
    // Hue angle in [0, 2π) from the opponent axes, then a soft circular histogram.
    const hue = tf.atan2(tf.mul(tf.sub(g, b), Math.sqrt(3)), tf.sub(tf.sub(tf.mul(r, 2), g), b));
    const width = (2 * Math.PI) / HUE_BINS;
    const satSum = tf.add(tf.sum(sat, axes), 1e-6);
    const hist = Array.from({ length: HUE_BINS }, (_, k) => {
      const centre = -Math.PI + (k + 0.5) * width;
      const diff = tf.abs(tf.sub(hue, centre));
      const circ = tf.minimum(diff, tf.sub(2 * Math.PI, diff));
      const w = tf.relu(tf.sub(1, tf.div(circ, width)));
      return tf.div(tf.sum(tf.mul(w, sat), axes), satSum);
    });
    const cols = [
      mean(r),
      mean(g),
      mean(b),
      mean(luma),
      std(luma),
      mean(sat),
      std(sat),
      colourfulness,
      tf.sub(mean(r), mean(b)),
      mean(tf.cast(tf.less(luma, 0.2), 'float32')),
      mean(tf.cast(tf.greater(luma, 0.8), 'float32')),
      edge,
      highFreq,
      clipped,
      ...hist,
    ];
    return tf.reshape(
      tf.stack(
        cols.map((c) => tf.reshape(c, [n])),
        1,
      ),
      [n, IMAGE_STAT_NAMES.length],
    ) as tf.Tensor2D;
  });
}
