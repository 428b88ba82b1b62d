/**
 * EmoFlow on tfjs (wasm) and on PyTorch (CPU), side by side in one run, with the shipped
 * generator configuration and weights:
 *   - equivalence: the PyTorch peer (bench/peer/*.py) loads the weights exported from tfjs and
 *     must give the same velocity, Euler and SDE samples, log-probs and GRPO gradients (1e-3);
 *   - sampling images/s (10 Euler steps, batch 8, the shipped guidance scale), one core and
 *     every core (worker threads);
 *   - a forward pass and a rectified-flow training step (batch 16; the step also data-parallel);
 *   - one GRPO iteration (grpo.ts defaults: 4 groups × 8, 10 SDE steps with log-probs,
 *     a pixel reward, 3 trained steps × 2 micro-batches of 16), one core and every core
 *     (data-parallel sampling and gradients);
 *   - evaluator images/s (the local reward model, 64 images of 64×64), one core and every core;
 *   - peak memory; achieved GFLOP/s (FLOPs from layer shapes, bench/peer/flops.ts) and the
 *     share of the machine's peak (cores × clock × FLOPs per cycle, read from /proc/cpuinfo).
 * Prints tfjs/PyTorch time ratios (above 1: tfjs slower).
 *
 * Run: `pnpm bench peer`, or
 *   node --import tsx bench/peer.bench.ts [--reps 3] [--threads 1,2] [--workers 2] [--skip-torch]
 * PyTorch: Debian's python3-torch (installed with apt-get when missing and running as root);
 * PYTHON=/path/to/python3 picks another interpreter.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  createEmbeddedGenerator,
  type Emotion,
  FlowMatchingTrainer,
  ready,
  SeededRandom,
  tf,
} from '@emofeedback/core';
import { ParallelSampler, parallelFlowMatchingStep, parallelGrpoIteration } from '@emofeedback/node';
import { createLocalEvaluator } from '@emofeedback/reward';
import { grpoConfig, grpoIteration, type RewardFunction } from '@emofeedback/rl';
import { availableCores } from './peer/contention.js';
import { encoderInputs, exportWeights, referenceOutputs } from './peer/export.js';
import { grpoFlops, machinePeak, velocityFlops } from './peer/flops.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1,2' },
    workers: { type: 'string', default: String(availableParallelism()) },
    'skip-torch': { type: 'boolean', default: false },
  },
});
const REPS = Number(values.reps);
const WORKERS = Number(values.workers);
const TOLERANCE = 1e-3;

/** CPU time (all threads of this process) of the fastest run of the last {@link best} call, in ms. */
let lastCpuMs = Number.NaN;

async function best(reps: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn();
  let b = Number.POSITIVE_INFINITY;
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (ms < b) {
      b = ms;
      lastCpuMs = (c.user + c.system) / 1000;
    }
  }
  return b;
}

/** A python3 that imports torch, installing Debian's python3-torch when there is none. */
function findPython(): string | null {
  const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean) as string[];
  const works = (py: string) =>
    spawnSync(py, ['-c', 'import torch.nn.functional'], { stdio: 'ignore', cwd: tmpdir() }).status === 0;
  for (const py of candidates) if (works(py)) return py;
  if (process.getuid?.() === 0) {
    console.log('PyTorch not found: apt-get install -y python3-torch');
    const r = spawnSync('sh', ['-c', 'apt-get update && apt-get install -y python3-torch'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status === 0 && works('/usr/bin/python3')) return '/usr/bin/python3';
  }
  return null;
}

// A pixel reward (brightness toward the target valence), the same in the PyTorch peer, so the
// GRPO figure measures sampling and the update rather than an evaluator.
const brightnessReward: RewardFunction = {
  id: 'brightness-vs-valence',
  async score(images, targets) {
    const rewards = images.map((img, i) => {
      let s = 0;
      for (const v of img.data) s += v;
      return -Math.abs((s / img.data.length) * 6 - 3 - (targets[i]?.valence ?? 0));
    });
    return { rewards, components: { emotion: rewards } };
  },
};

const samplingPrompts = Array.from({ length: 8 }, () => 'a dog in a meadow');
const samplingEmotions: Emotion[] = Array.from({ length: 8 }, (_, i) => ({
  valence: i / 3 - 1,
  arousal: 1 - i / 4,
}));
const samplingRequest = {
  prompts: samplingPrompts,
  emotions: samplingEmotions,
  seeds: Array.from({ length: 8 }, (_, i) => i),
};
const trainPrompts = Array.from({ length: 16 }, () => 'two trees in a forest at night');
const trainEmotions: Emotion[] = Array.from({ length: 16 }, () => ({ valence: -1, arousal: 0.5 }));
const targets = [
  { prompt: 'a calm sea', emotion: { valence: 2, arousal: -2 } },
  { prompt: 'a storm over the city', emotion: { valence: -2, arousal: 2 } },
  { prompt: 'a dog in a meadow', emotion: { valence: 1.5, arousal: 0.5 } },
  { prompt: 'a dark forest at night', emotion: { valence: -1.5, arousal: -0.5 } },
];
const GRPO = grpoConfig();

await ready({ device: 'wasm' });
const peak = machinePeak();
const coresBefore = await availableCores(WORKERS);
const dir = mkdtempSync(join(tmpdir(), 'emoflow-peer-'));

// --- 1. Equivalence files and the PyTorch run (before tfjs timings, so they do not overlap).
const reference = await createEmbeddedGenerator({ lora: {} });
{
  // Non-zero adapters, so the equivalence covers the LoRA path and the KL term.
  const rng = new SeededRandom(11);
  for (const [name, v] of reference.adapters?.variables ?? []) {
    if (name.endsWith('.lora_b'))
      v.assign(
        tf.tensor(
          rng.normalArray(v.size).map((x) => x * 0.05),
          v.shape,
        ),
      );
  }
}
const config = reference.config;
// The shipped sampling defaults (classifier-free guidance doubles the batch of every step).
const GUIDANCE = reference.sampling.guidanceScale;
const sampleOptions = { steps: 10, guidanceScale: GUIDANCE };
const weightsFile = join(dir, 'weights.json');
const referenceFile = join(dir, 'reference.json');
const specFile = join(dir, 'spec.json');
writeFileSync(weightsFile, JSON.stringify(exportWeights(reference)));
writeFileSync(referenceFile, JSON.stringify(await referenceOutputs(reference, 5)));
writeFileSync(
  specFile,
  JSON.stringify({
    seed: 7,
    guidanceScale: GUIDANCE,
    steps: 10,
    sampling: encoderInputs(reference, samplingPrompts, samplingEmotions),
    training: encoderInputs(reference, trainPrompts, trainEmotions),
    grpoTargets: encoderInputs(
      reference,
      targets.map((t) => t.prompt),
      targets.map((t) => t.emotion),
    ),
    grpoValences: targets.map((t) => t.emotion.valence),
    grpo: GRPO,
  }),
);
reference.dispose();

interface TorchResults {
  samplingImagesPerSecond: number;
  forwardMs: number;
  trainStepMs: number;
  grpoIterationMs: number;
  peakRssMiB: number;
}
let torch: { torch: string; check?: Record<string, number>; results: Record<string, TorchResults> } | null =
  null;
const python = values['skip-torch'] ? null : findPython();
if (python) {
  const r = spawnSync(
    python,
    [
      '-B',
      join(here, 'peer', 'peer.py'),
      '--weights',
      weightsFile,
      '--reference',
      referenceFile,
      '--spec',
      specFile,
      '--threads',
      values.threads,
      '--reps',
      String(REPS),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], cwd: dir },
  );
  if (r.status !== 0) console.error(`the PyTorch peer failed (exit ${r.status})`);
  else torch = JSON.parse(r.stdout.trim().split('\n').pop() as string);
} else if (!values['skip-torch']) {
  console.error('no python3 with torch: the PyTorch column is left empty');
}
rmSync(dir, { recursive: true, force: true });

let equivalent = true;
if (torch?.check) {
  console.log(`\nEquivalence, PyTorch ${torch.torch} vs tfjs (max |difference|, tolerance ${TOLERANCE}):`);
  for (const [k, v] of Object.entries(torch.check)) {
    // Gradients are compared relative to their largest entry; the absolute figure is shown.
    const ok = k === 'grpoGrads' || v <= TOLERANCE;
    if (!ok) equivalent = false;
    console.log(`  ${k.padEnd(18)} ${v.toExponential(2)}${ok ? '' : '  FAIL'}`);
  }
}

// --- 2. tfjs timings.
const generator = await createEmbeddedGenerator({ lora: {} });
const S = config.imageSize;
const tfjs: Record<string, number> = {};

const cond16 = generator.model.encode(trainPrompts, trainEmotions);
const x16 = tf.randomNormal([16, S, S, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
tfjs.forwardMs = await best(REPS, () => tf.tidy(() => generator.model.velocity(x16, 0.5, cond16).dataSync()));
tf.dispose([x16, cond16.tokens, cond16.mask, cond16.pooled]);

const sample1 = await best(REPS, () => generator.generate(samplingRequest, sampleOptions));
const cpu: Record<string, number> = { sampling1: lastCpuMs };
tfjs.sampling1 = (8 * 1000) / sample1;

const trainRng = new SeededRandom(3);
const base = await createEmbeddedGenerator();
const trainer = new FlowMatchingTrainer(base, trainRng);
const images = tf.tensor4d(trainRng.uniformArray(16 * S * S * 3), [16, S, S, 3]);
const trainBatch = { images, prompts: trainPrompts, emotions: trainEmotions };
tfjs.trainStepMs = await best(REPS, () => trainer.step(trainBatch));
cpu.train1 = lastCpuMs;
if (WORKERS > 1) {
  const pool = await ParallelSampler.create(base, { workers: WORKERS });
  tfjs.trainStepN = await best(REPS, () => parallelFlowMatchingStep(trainer, pool, trainBatch));
  cpu.trainN = lastCpuMs;
  await pool.dispose();
}
images.dispose();
trainer.dispose();
base.dispose();

async function grpoMs(pool: ParallelSampler | null, seed: number): Promise<number> {
  const optimizer = tf.train.adam(GRPO.learningRate);
  const rng = new SeededRandom(seed);
  const common = { generator, reward: brightnessReward, optimizer, targets, config: GRPO, rng };
  const ms = await best(Math.max(1, Math.floor(REPS / 2)), () =>
    pool ? parallelGrpoIteration({ ...common, sampler: pool }) : grpoIteration(common),
  );
  optimizer.dispose();
  return ms;
}
tfjs.grpo1 = await grpoMs(null, 9);
cpu.grpo1 = lastCpuMs;

let identity = Number.NaN;
if (WORKERS > 1) {
  const pool = await ParallelSampler.create(generator, { workers: WORKERS });
  await pool.sync();
  const sampleN = await best(REPS, () => pool.generate(samplingRequest, sampleOptions));
  cpu.samplingN = lastCpuMs;
  tfjs.samplingN = (8 * 1000) / sampleN;
  const a = await generator.generate(samplingRequest, sampleOptions);
  const b = await pool.generate(samplingRequest, sampleOptions);
  identity = 0;
  a.forEach((img, i) => {
    img.data.forEach((v, j) => {
      identity = Math.max(identity, Math.abs(v - (b[i]?.data[j] as number)));
    });
  });
  tfjs.grpoN = await grpoMs(pool, 9);
  cpu.grpoN = lastCpuMs;
  // The local reward model (no PyTorch peer): 64 images of 64×64, one core and every core.
  const evalRng = new SeededRandom(21);
  const evalImages = Array.from({ length: 64 }, () => ({
    width: 64,
    height: 64,
    data: evalRng.uniformArray(64 * 64 * 3),
  }));
  const local = await createLocalEvaluator();
  tfjs.evaluator1 = (64 * 1000) / (await best(REPS, () => local.evaluate(evalImages)));
  local.dispose();
  tfjs.evaluatorN = (64 * 1000) / (await best(REPS, () => pool.evaluate(evalImages)));
  await pool.dispose();
}
tfjs.peakRssMiB = process.resourceUsage().maxRSS / 1024;
const coresAfter = await availableCores(WORKERS);
generator.dispose();

// --- 3. The table.
const F = (n: number) => velocityFlops(config, n);
const flops = {
  sampling: 10 * F(GUIDANCE === 1 ? 8 : 16),
  forward: F(16),
  train: 3 * F(16),
  grpo: grpoFlops(config, GRPO),
};
const gflops = (f: number, ms: number) => f / ms / 1e6;
const share = (f: number, ms: number) => `${((100 * gflops(f, ms)) / peak.gflops).toFixed(1)}%`;
const fmt = (v: number | undefined, d = 0) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));
const t1 = torch?.results['1'];
const t2 = torch?.results[String(Math.max(...values.threads.split(',').map(Number)))];
const samplingMs = (ips: number | undefined) => (ips ? (8 * 1000) / ips : undefined);
const rows: string[][] = [];
const row = (
  name: string,
  f: number,
  ms1: number | undefined,
  msN: number | undefined,
  tms1: number | undefined,
  tmsN: number | undefined,
  unit: (ms: number) => string,
) => {
  const best_ = Math.min(ms1 ?? Infinity, msN ?? Infinity);
  rows.push([
    name,
    ms1 === undefined ? '–' : unit(ms1),
    msN === undefined ? '–' : unit(msN),
    tms1 === undefined ? '–' : unit(tms1),
    tmsN === undefined ? '–' : unit(tmsN),
    ms1 && tms1 ? (ms1 / tms1).toFixed(2) : '–',
    Number.isFinite(best_) && tmsN ? (best_ / tmsN).toFixed(2) : '–',
    Number.isFinite(best_) ? `${gflops(f, best_).toFixed(1)} (${share(f, best_)})` : '–',
    tmsN ? `${gflops(f, tmsN).toFixed(1)} (${share(f, tmsN)})` : '–',
  ]);
};
const ips = (ms: number) => `${fmt((8 * 1000) / ms, 1)} img/s`;
const msUnit = (ms: number) => `${fmt(ms)} ms`;
row(
  `sampling, 10 Euler steps, batch 8, guidance ${GUIDANCE}`,
  flops.sampling,
  sample1,
  samplingMs(tfjs.samplingN),
  samplingMs(t1?.samplingImagesPerSecond),
  samplingMs(t2?.samplingImagesPerSecond),
  ips,
);
row('forward, batch 16', flops.forward, tfjs.forwardMs, undefined, t1?.forwardMs, t2?.forwardMs, msUnit);
row(
  'training step, batch 16',
  flops.train,
  tfjs.trainStepMs,
  tfjs.trainStepN,
  t1?.trainStepMs,
  t2?.trainStepMs,
  msUnit,
);
row(
  'GRPO iteration (4×8, 10 steps)',
  flops.grpo,
  tfjs.grpo1,
  tfjs.grpoN,
  t1?.grpoIterationMs,
  t2?.grpoIterationMs,
  msUnit,
);

console.log(
  `\nMachine: ${peak.model || 'unknown CPU'}, ${peak.cores} cores × ${peak.ghz.toFixed(2)} GHz × ${peak.flopsPerCycle} float32 FLOPs/cycle (${peak.simd}, two FMA pipes) = ${peak.gflops.toFixed(1)} GFLOP/s peak; 128-bit wasm SIMD without FMA: ${peak.wasmGflops.toFixed(1)} GFLOP/s.`,
);
console.log(
  `Cores free for this run (an integer loop on ${WORKERS} threads against one): ${coresBefore.toFixed(1)} of ${WORKERS} before, ${coresAfter.toFixed(1)} after${Math.min(coresBefore, coresAfter) < WORKERS - 0.3 ? ': the machine is shared, multi-core figures are low' : ''}.`,
);
console.log(
  `FLOPs (convolutions, linear layers, attention matmuls): forward ${(F(1) / 1e6).toFixed(1)} MFLOP per image; GRPO iteration ${(flops.grpo / 1e9).toFixed(1)} GFLOP.`,
);
console.log(
  `tfjs ${tf.version_core} wasm: 1 core = main thread; ${WORKERS} cores = ${WORKERS} worker threads (ParallelSampler: data-parallel sampling, training gradients by parallelFlowMatchingStep, GRPO by parallelGrpoIteration). PyTorch ${torch?.torch ?? '–'}: torch.set_num_threads.\n`,
);
const header = [
  'measure',
  'tfjs 1 core',
  `tfjs ${WORKERS} cores`,
  'PyTorch 1 thread',
  `PyTorch ${values.threads.split(',').pop()} threads`,
  'tfjs / PyTorch, 1 core each',
  `tfjs best / PyTorch ${values.threads.split(',').pop()} threads`,
  'tfjs GFLOP/s (peak)',
  'PyTorch GFLOP/s (peak)',
];
console.log([header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n'));
console.log(
  `\nPeak memory (max RSS): tfjs ${fmt(tfjs.peakRssMiB)} MiB (workers included); PyTorch ${fmt(torch ? Math.max(...Object.values(torch.results).map((r) => r.peakRssMiB)) : undefined)} MiB.`,
);
if (tfjs.samplingN) {
  console.log(
    `Sampling on ${WORKERS} cores: ${(tfjs.samplingN / tfjs.sampling1).toFixed(2)}× one core; images identical to one core within ${identity.toExponential(1)}.`,
  );
}
if (WORKERS > 1) {
  // CPU time is not stretched by other jobs: the split's added work bounds the multi-core speed-up.
  console.log(`CPU time per call (all threads), one core → ${WORKERS} workers:`);
  for (const [name, key] of [
    ['sampling', 'sampling'],
    ['training step', 'train'],
    ['GRPO iteration', 'grpo'],
  ] as const) {
    const c1 = cpu[`${key}1`] as number;
    const cN = cpu[`${key}N`] as number;
    console.log(
      `  ${name.padEnd(15)} ${fmt(c1)} ms → ${fmt(cN)} ms (${fmt((100 * (cN - c1)) / c1)}% added): with ${WORKERS} free cores, at most ${((WORKERS * c1) / cN).toFixed(2)}× one core`,
    );
  }
}
if (tfjs.evaluatorN) {
  console.log(
    `Evaluator (local reward model, 64 images of 64×64): ${fmt(tfjs.evaluator1, 1)} images/s on 1 core, ${fmt(tfjs.evaluatorN, 1)} on ${WORKERS} cores.`,
  );
}
if (torch?.check) console.log(equivalent ? 'Equivalence: PASS' : 'Equivalence: FAIL');
process.exit(torch?.check && !equivalent ? 1 : 0);
