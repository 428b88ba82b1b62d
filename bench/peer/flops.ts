/**
 * FLOPs of the EmoFlow network counted from its layer shapes, and the machine's peak.
 *
 * Counted: the multiply-adds (2 FLOPs each) of convolutions, linear layers and the attention
 * matmuls. Not counted: norms, activations, additions and LoRA adapters (under 2% together).
 * A backward pass costs 2× the forward when weight and input gradients are both needed (full
 * training) and 1× when only input gradients flow through frozen layers (GRPO on adapters).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { EmoFlowConfig } from '@emofeedback/core';

/** Forward FLOPs of one velocity evaluation of a batch of `n`. */
export function velocityFlops(config: EmoFlowConfig, n: number): number {
  const S = config.imageSize;
  const [c0, c1, c2] = config.channels;
  const A = config.attentionDim;
  const D = config.text.dim;
  const T = config.text.maxTokens + config.emotion.tokens;
  const cd = config.condDim;
  const conv = (h: number, cin: number, cout: number, k = 3) => 2 * n * h * h * k * k * cin * cout;
  const linear = (rows: number, inF: number, outF: number) => 2 * rows * inF * outF;
  const res = (h: number, c: number) => 2 * conv(h, c, c) + linear(n, cd, 2 * c);
  const attn = (h: number, c: number) =>
    linear(n * h * h, c, A) + 2 * linear(n * T, D, A) + 2 * (2 * n * h * h * T * A) + linear(n * h * h, A, c);
  const cond = linear(n, config.timeFeatures + 2 * D, cd) + linear(n, cd, cd) + linear(n, cd, 3);
  return (
    cond +
    conv(S, 3, c0) +
    conv(S / 2, c0, c1) +
    res(S / 2, c1) +
    attn(S / 2, c1) +
    conv(S / 4, c1, c2) +
    res(S / 4, c2) +
    attn(S / 4, c2) +
    linear(n * (S / 4) ** 2, c2, c1) +
    res(S / 2, c1) +
    attn(S / 2, c1) +
    linear(n * (S / 2) ** 2, c1, c0) +
    res(S, c0) +
    conv(S, c0, 3)
  );
}

/** The GRPO iteration's FLOPs for grpo.ts's defaults of group sampling and per-step updates. */
export function grpoFlops(
  config: EmoFlowConfig,
  g: {
    groupsPerIteration: number;
    groupSize: number;
    steps: number;
    stepsPerIteration: number;
    microBatch: number;
  },
): number {
  const n = g.groupsPerIteration * g.groupSize;
  const sampling = g.steps * velocityFlops(config, n);
  // Per micro-batch and trained step: the reference forward (adapters off), the forward, and a
  // backward carrying input gradients only (base weights frozen).
  let update = 0;
  for (let i = 0; i < n; i += g.microBatch) {
    const m = Math.min(g.microBatch, n - i);
    update += g.stepsPerIteration * 3 * velocityFlops(config, m);
  }
  return sampling + update;
}

/** What the machine can do at most, read from the machine. */
export interface MachinePeak {
  readonly cores: number;
  readonly ghz: number;
  readonly flopsPerCycle: number;
  readonly simd: string;
  readonly model: string;
  /** cores × GHz × FLOPs per cycle (float32). */
  readonly gflops: number;
  /** The same with 128-bit wasm SIMD without fused multiply-add: 8 FLOPs per cycle per core. */
  readonly wasmGflops: number;
}

/**
 * cores × clock × float32 FLOPs per cycle per core. FLOPs per cycle from the CPU flags, taking
 * two vector FMA pipes per core: AVX-512 64, AVX2 + FMA 32, AVX 16, SSE 8.
 */
export function machinePeak(): MachinePeak {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // Not Linux: the clock and flags stay unknown and the peak is reported as 0.
  }
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  let mhz = 0;
  try {
    mhz = Number(readFileSync('/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq', 'utf8')) / 1000;
  } catch {
    for (const m of text.matchAll(/^cpu MHz\s*:\s*([\d.]+)/gm)) mhz = Math.max(mhz, Number(m[1]));
  }
  const flags = new Set(field('flags').split(/\s+/));
  const [simd, flopsPerCycle] = flags.has('avx512f')
    ? ['AVX-512', 64]
    : flags.has('avx2') && flags.has('fma')
      ? ['AVX2+FMA', 32]
      : flags.has('avx')
        ? ['AVX', 16]
        : ['SSE', 8];
  const cores = availableParallelism();
  const ghz = mhz / 1000;
  return {
    cores,
    ghz,
    flopsPerCycle: flopsPerCycle as number,
    simd: simd as string,
    model: field('model name'),
    gflops: cores * ghz * (flopsPerCycle as number),
    wasmGflops: cores * ghz * 8,
  };
}
