/** Top principal components by block power (subspace) iteration, Float64. */
import { SeededRandom } from '@emofeedback/core';

/** Symmetric eigen-decomposition of a small k×k matrix (cyclic Jacobi). */
function jacobiEigen(a: Float64Array, k: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += (m[p * k + q] as number) ** 2;
    if (off < 1e-20) break;
    for (let p = 0; p < k; p++)
      for (let q = p + 1; q < k; q++) {
        const apq = m[p * k + q] as number;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = ((m[q * k + q] as number) - (m[p * k + p] as number)) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const mrp = m[r * k + p] as number;
          const mrq = m[r * k + q] as number;
          m[r * k + p] = c * mrp - s * mrq;
          m[r * k + q] = s * mrp + c * mrq;
        }
        for (let r = 0; r < k; r++) {
          const mpr = m[p * k + r] as number;
          const mqr = m[q * k + r] as number;
          m[p * k + r] = c * mpr - s * mqr;
          m[q * k + r] = s * mpr + c * mqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r * k + p] as number;
          const vrq = v[r * k + q] as number;
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
  }
  const values = new Float64Array(k);
  for (let i = 0; i < k; i++) values[i] = m[i * k + i] as number;
  return { values, vectors: v };
}

/** Orthonormalises the columns of q (d×k) in place (modified Gram-Schmidt). */
function orthonormalise(q: Float64Array, d: number, k: number): void {
  for (let c = 0; c < k; c++) {
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let r = 0; r < d; r++) dot += (q[r * k + c] as number) * (q[r * k + p] as number);
      for (let r = 0; r < d; r++) q[r * k + c] = (q[r * k + c] as number) - dot * (q[r * k + p] as number);
    }
    let norm = 0;
    for (let r = 0; r < d; r++) norm += (q[r * k + c] as number) ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let r = 0; r < d; r++) q[r * k + c] = (q[r * k + c] as number) / norm;
  }
}

export interface Pca {
  readonly mean: Float64Array; // d
  readonly basis: Float64Array; // d×k, columns orthonormal, by decreasing variance
  readonly variances: Float64Array; // k
  /** Mean variance per dimension outside the k components. */
  readonly residualVariance: number;
}

/** PCA of rows x (n×d) keeping k components. */
export function fitPca(x: Float32Array, n: number, d: number, k: number, seed: number, iterations = 30): Pca {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (x[i * d + j] as number) / n;
  const xc = new Float64Array(n * d);
  let totalVar = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const v = (x[i * d + j] as number) - (mean[j] as number);
      xc[i * d + j] = v;
      totalVar += (v * v) / n;
    }
  const rng = new SeededRandom(seed);
  let q: Float64Array = new Float64Array(d * k);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  orthonormalise(q, d, k);
  const covTimes = (m: Float64Array): Float64Array => {
    // C·m = Xcᵀ (Xc m) / n
    const t = new Float64Array(n * k);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) {
        const xv = xc[i * d + j] as number;
        if (xv === 0) continue;
        for (let c = 0; c < k; c++) t[i * k + c] = (t[i * k + c] as number) + xv * (m[j * k + c] as number);
      }
    const out = new Float64Array(d * k);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) {
        const xv = xc[i * d + j] as number;
        if (xv === 0) continue;
        for (let c = 0; c < k; c++)
          out[j * k + c] = (out[j * k + c] as number) + (xv * (t[i * k + c] as number)) / n;
      }
    return out;
  };
  for (let it = 0; it < iterations; it++) {
    q = covTimes(q);
    orthonormalise(q, d, k);
  }
  // Rayleigh-Ritz.
  const cq = covTimes(q);
  const small = new Float64Array(k * k);
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++) {
      let s = 0;
      for (let r = 0; r < d; r++) s += (q[r * k + a] as number) * (cq[r * k + b] as number);
      small[a * k + b] = s;
    }
  for (let a = 0; a < k; a++)
    for (let b = a + 1; b < k; b++) {
      const avg = ((small[a * k + b] as number) + (small[b * k + a] as number)) / 2;
      small[a * k + b] = avg;
      small[b * k + a] = avg;
    }
  const { values, vectors } = jacobiEigen(small, k);
  const order = Array.from({ length: k }, (_, i) => i).sort(
    (a, b) => (values[b] as number) - (values[a] as number),
  );
  const basis = new Float64Array(d * k);
  const variances = new Float64Array(k);
  order.forEach((src, dst) => {
    variances[dst] = Math.max(values[src] as number, 1e-12);
    for (let r = 0; r < d; r++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += (q[r * k + c] as number) * (vectors[c * k + src] as number);
      basis[r * k + dst] = s;
    }
  });
  const explained = variances.reduce((s, v) => s + v, 0);
  const residualVariance = Math.max((totalVar - explained) / Math.max(1, d - k), 1e-12);
  return { mean, basis, variances, residualVariance };
}
