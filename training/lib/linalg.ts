/** Small dense linear algebra for head training (Float64, row-major). */
import { tf } from '@emofeedback/core';
import type { Matrix } from './features.js';

/** Column means and standard deviations (population), std floored at 1e-6. */
export function columnStats(x: Matrix, rows: readonly number[]): { mean: Float64Array; std: Float64Array } {
  const { d, data } = x;
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (const r of rows)
    for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (data[r * d + j] as number);
  for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) / rows.length;
  for (const r of rows)
    for (let j = 0; j < d; j++) {
      const v = (data[r * d + j] as number) - (mean[j] as number);
      sq[j] = (sq[j] as number) + v * v;
    }
  const std = new Float64Array(d);
  for (let j = 0; j < d; j++) std[j] = Math.max(1e-6, Math.sqrt((sq[j] as number) / rows.length));
  return { mean, std };
}

/** Horizontal concatenation of matrices with the same rows. */
export function hstack(parts: readonly Matrix[]): Matrix {
  const n = (parts[0] as Matrix).n;
  const d = parts.reduce((s, p) => s + p.d, 0);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (const p of parts) {
      data.set(p.data.subarray(i * p.d, (i + 1) * p.d), i * d + off);
      off += p.d;
    }
  }
  return { n, d, data };
}

/** Rows `rows` of x, standardised with (mean, std), as a Float32Array n×d. */
export function standardRows(
  x: Matrix,
  rows: readonly number[],
  mean: Float64Array,
  std: Float64Array,
): Float32Array {
  const { d, data } = x;
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++)
      out[i * d + j] = ((data[r * d + j] as number) - (mean[j] as number)) / (std[j] as number);
  });
  return out;
}

/** In-place Cholesky solve of (A) X = B, A n×n SPD (Float64), B n×k. Returns X. */
export function choleskySolve(a: Float64Array, n: number, b: Float64Array, k: number): Float64Array {
  const l = new Float64Array(a);
  for (let j = 0; j < n; j++) {
    let s = l[j * n + j] as number;
    for (let p = 0; p < j; p++) s -= (l[j * n + p] as number) ** 2;
    if (!(s > 0)) throw new Error('matrix is not positive definite');
    const djj = Math.sqrt(s);
    l[j * n + j] = djj;
    for (let i = j + 1; i < n; i++) {
      let t = l[i * n + j] as number;
      const ri = i * n;
      const rj = j * n;
      for (let p = 0; p < j; p++) t -= (l[ri + p] as number) * (l[rj + p] as number);
      l[i * n + j] = t / djj;
    }
  }
  const x = new Float64Array(b);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < n; i++) {
      let t = x[i * k + c] as number;
      for (let p = 0; p < i; p++) t -= (l[i * n + p] as number) * (x[p * k + c] as number);
      x[i * k + c] = t / (l[i * n + i] as number);
    }
    for (let i = n - 1; i >= 0; i--) {
      let t = x[i * k + c] as number;
      for (let p = i + 1; p < n; p++) t -= (l[p * n + i] as number) * (x[p * k + c] as number);
      x[i * k + c] = t / (l[i * n + i] as number);
    }
  }
  return x;
}

/** A fitted linear map on standardised features: y = z·W + b. */
export interface Ridge {
  readonly w: Float64Array; // d × k
  readonly b: Float64Array; // k
}

/**
 * Weighted ridge regression on already-standardised rows z (n×d) with targets y (n×k).
 * The intercept is not penalised. Solves in the primal or dual, whichever is smaller.
 */
export function fitRidge(
  z: Float32Array,
  n: number,
  d: number,
  y: Float64Array,
  k: number,
  lambda: number,
  weights?: Float64Array,
): Ridge {
  return fitRidgePath(z, n, d, y, k, [lambda], weights)[0] as Ridge;
}

/** {@link fitRidge} for several ridge strengths, sharing the Gram matrix. */
export function fitRidgePath(
  z: Float32Array,
  n: number,
  d: number,
  y: Float64Array,
  k: number,
  lambdas: readonly number[],
  weights?: Float64Array,
): Ridge[] {
  const w = weights ?? new Float64Array(n).fill(1);
  const wsum = w.reduce((s, v) => s + v, 0);
  // Weighted centring.
  const zm = new Float64Array(d);
  const ym = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const wi = w[i] as number;
    for (let j = 0; j < d; j++) zm[j] = (zm[j] as number) + wi * (z[i * d + j] as number);
    for (let c = 0; c < k; c++) ym[c] = (ym[c] as number) + wi * (y[i * k + c] as number);
  }
  for (let j = 0; j < d; j++) zm[j] = (zm[j] as number) / wsum;
  for (let c = 0; c < k; c++) ym[c] = (ym[c] as number) / wsum;
  const zc = new Float32Array(n * d);
  const yc = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const s = Math.sqrt((w[i] as number) * (n / wsum));
    for (let j = 0; j < d; j++) zc[i * d + j] = ((z[i * d + j] as number) - (zm[j] as number)) * s;
    for (let c = 0; c < k; c++) yc[i * k + c] = ((y[i * k + c] as number) - (ym[c] as number)) * s;
  }
  const solveAll: ((lambda: number) => Float64Array)[] = [];
  if (n < d) {
    const K = tf.tidy(() => {
      const m = tf.tensor2d(zc, [n, d]);
      return tf.matMul(m, m, false, true).dataSync();
    });
    solveAll.push((lambda) => {
      const a = Float64Array.from(K);
      for (let i = 0; i < n; i++) a[i * n + i] = (a[i * n + i] as number) + lambda;
      const alpha = choleskySolve(a, n, yc, k);
      const wOut = new Float64Array(d * k);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < d; j++) {
          const zij = zc[i * d + j] as number;
          for (let c = 0; c < k; c++)
            wOut[j * k + c] = (wOut[j * k + c] as number) + zij * (alpha[i * k + c] as number);
        }
      return wOut;
    });
  } else {
    const G = tf.tidy(() => {
      const m = tf.tensor2d(zc, [n, d]);
      return tf.matMul(m, m, true, false).dataSync();
    });
    const rhs = new Float64Array(d * k);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) {
        const zij = zc[i * d + j] as number;
        for (let c = 0; c < k; c++)
          rhs[j * k + c] = (rhs[j * k + c] as number) + zij * (yc[i * k + c] as number);
      }
    solveAll.push((lambda) => {
      const a = Float64Array.from(G);
      for (let j = 0; j < d; j++) a[j * d + j] = (a[j * d + j] as number) + lambda;
      return choleskySolve(a, d, rhs, k);
    });
  }
  return lambdas.map((lambda) => {
    const wOut = (solveAll[0] as (l: number) => Float64Array)(lambda);
    const b = new Float64Array(k);
    for (let c = 0; c < k; c++) {
      let s = ym[c] as number;
      for (let j = 0; j < d; j++) s -= (zm[j] as number) * (wOut[j * k + c] as number);
      b[c] = s;
    }
    return { w: wOut, b };
  });
}

/** Predictions z·W + b for standardised rows. */
export function predictRidge(model: Ridge, z: Float32Array, n: number, d: number, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < k; c++) {
      let s = model.b[c] as number;
      for (let j = 0; j < d; j++) s += (z[i * d + j] as number) * (model.w[j * k + c] as number);
      out[i * k + c] = s;
    }
  return out;
}
