import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  EmoFeedbackError,
  type EmoFlowGenerateOptions,
  type EmoFlowGenerator,
  type GenerationRequest,
  InvalidArgumentError,
  type RgbImage,
  type Trajectory,
  type TrajectoryOptions,
  type tf,
  validateGenerationRequest,
} from '@emofeedback/core';
import type { Evaluation } from '@emofeedback/reward';
import type { GrpoGradientTask } from '@emofeedback/rl';
import type {
  FlowMatchingGradientRequest,
  FlowMatchingGradientResult,
  GeneratorSnapshot,
  GrpoGradientResult,
  LocalEvaluatorKind,
  NamedArray,
  PlainSamplingOptions,
  WorkerRequest,
  WorkerResponse,
} from './protocol.js';

/** Options of {@link ParallelSampler.create}. */
export interface ParallelSamplerOptions {
  /** Worker threads; default: the number of CPUs this process may use. */
  readonly workers?: number;
  /** The tfjs backend of the workers; default `wasm`. */
  readonly device?: 'wasm' | 'cpu';
  /**
   * The worker script. Default: `parallel-worker.js` next to the package's bundle (or
   * `worker.ts` beside this file when running from the TypeScript sources, through tsx).
   */
  readonly workerUrl?: URL;
}

type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;

interface Pending {
  resolve(response: WorkerResponse): void;
  reject(error: Error): void;
}

function named(variables: ReadonlyMap<string, tf.Variable>): Record<string, NamedArray> {
  const out: Record<string, NamedArray> = {};
  for (const [name, v] of variables) {
    out[name] = { shape: [...v.shape], data: (v.dataSync() as Float32Array).slice() };
  }
  return out;
}

/** Captures a generator's config, sampling defaults and weights (base weights optional). */
export function generatorSnapshot(generator: EmoFlowGenerator, withBase = true): GeneratorSnapshot {
  return {
    config: generator.config,
    sampling: generator.sampling,
    id: generator.id,
    lora: generator.adapters ? generator.adapters.config : null,
    ...(withBase ? { weights: named(generator.model.weights.variables) } : {}),
    adapters: generator.adapters ? named(generator.adapters.variables) : {},
    adaptersEnabled: generator.adaptersEnabled,
  };
}

/** How to start a worker: a script file, or (from the TypeScript sources) a bootstrap. */
type WorkerStart = { readonly url: URL } | { readonly code: string };

function defaultWorker(): WorkerStart {
  const here: string | undefined = import.meta.url;
  if (typeof here !== 'string') {
    throw new InvalidArgumentError(
      'workerUrl',
      'this build cannot locate its worker script; pass workerUrl.',
    );
  }
  if (!here.endsWith('.ts')) return { url: new URL('./parallel-worker.js', here) };
  // From the TypeScript sources: load the worker's source through tsx, resolving the workspace
  // packages to their sources as the repository's tsconfig does.
  const api = createRequire(here)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs');
  const tsconfigUrl = new URL('../../../../tsconfig.src-check.json', here);
  const tsconfig = existsSync(fileURLToPath(tsconfigUrl)) ? fileURLToPath(tsconfigUrl) : undefined;
  const options = tsconfig ? `{ tsconfig: ${JSON.stringify(tsconfig)} }` : '';
  return {
    code: `import(${JSON.stringify(pathToFileURL(api).href)}).then(({ register }) => { register(${options}); return import(${JSON.stringify(new URL('./worker.ts', here).href)}); });`,
  };
}

/** Contiguous, balanced chunks of `n` rows over at most `parts` parts (none empty). */
export function splitRows(n: number, parts: number): Array<[number, number]> {
  const k = Math.max(1, Math.min(parts, n));
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < k; i++) {
    const size = Math.floor(n / k) + (i < n % k ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out;
}

function plain(options: PlainSamplingOptions & Record<string, unknown>): PlainSamplingOptions {
  const out: Record<string, unknown> = {};
  for (const k of ['steps', 'guidanceScale', 'shift', 'noiseLevel', 'sampler'] as const) {
    if (options[k] !== undefined) out[k] = options[k];
  }
  return out as PlainSamplingOptions;
}

/**
 * Data-parallel sampling and gradients over worker threads, one per core (the tfjs 4.22 wasm
 * backend is single-threaded in Node). A batch is split into contiguous chunks, each worker (its
 * own wasm backend and copy of the weights) samples its chunk, and the results are put back in
 * order. Every image's noise, the initial noise and the SDE noise alike, comes from its own
 * seed's stream, so the images do not depend on the number of workers. Gradients (GRPO terms,
 * rectified-flow batches) are computed per chunk and combined weighted by chunk size; see
 * `workerGrpoEngine` and `parallelFlowMatchingStep`.
 *
 * Workers hold a copy of the weights: call {@link sync} after changing the generator (e.g. after
 * an optimiser step on the adapters). Call {@link dispose} when done: running workers keep the
 * process alive.
 */
export class ParallelSampler {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly generator: EmoFlowGenerator,
    private readonly threads: Worker[],
  ) {
    for (const w of threads) {
      w.on('message', (r: WorkerResponse) => {
        const p = this.pending.get(r.id);
        if (!p) return;
        this.pending.delete(r.id);
        p.resolve(r);
      });
      w.on('error', (error) => this.failAll(error));
      w.on('exit', (code) => {
        if (!this.closed) this.failAll(new Error(`a sampling worker exited (code ${code})`));
      });
    }
  }

  /**
   * Starts the workers and sends them the generator's weights.
   * @throws InvalidArgumentError for a worker count below 1.
   */
  static async create(
    generator: EmoFlowGenerator,
    options: ParallelSamplerOptions = {},
  ): Promise<ParallelSampler> {
    const count = options.workers ?? availableParallelism();
    if (!Number.isInteger(count) || count < 1) {
      throw new InvalidArgumentError('workers', `expected an integer ≥ 1, got ${String(count)}.`);
    }
    const start: WorkerStart = options.workerUrl ? { url: options.workerUrl } : defaultWorker();
    const threads = Array.from({ length: count }, () =>
      'url' in start ? new Worker(start.url) : new Worker(start.code, { eval: true }),
    );
    const sampler = new ParallelSampler(generator, threads);
    try {
      const snapshot = generatorSnapshot(generator);
      await Promise.all(
        threads.map((w) => sampler.call(w, { kind: 'init', device: options.device ?? 'wasm', snapshot })),
      );
    } catch (error) {
      await sampler.dispose();
      throw error;
    }
    return sampler;
  }

  /** Number of worker threads. */
  get workers(): number {
    return this.threads.length;
  }

  /** Sends the generator's current weights to the workers (adapters only unless `base`). */
  async sync(options: { base?: boolean } = {}): Promise<void> {
    const snapshot = generatorSnapshot(this.generator, options.base ?? false);
    await Promise.all(this.threads.map((w) => this.call(w, { kind: 'sync', snapshot })));
  }

  /**
   * Generates one image per (prompt, emotion, seed), as {@link EmoFlowGenerator.generate} does
   * (progress callbacks are not forwarded; the signal is checked before and after).
   */
  async generate(request: GenerationRequest, options: EmoFlowGenerateOptions = {}): Promise<RgbImage[]> {
    const checked = validateGenerationRequest(request);
    const parts = await this.scatter(checked, 'generate', plain(options as never), options.signal);
    return parts.flatMap((r) => r.images ?? []);
  }

  /** SDE trajectories with per-step log-probs, as {@link EmoFlowGenerator.sampleTrajectories}. */
  async sampleTrajectories(request: GenerationRequest, options: TrajectoryOptions = {}): Promise<Trajectory> {
    const checked = validateGenerationRequest(request);
    const parts = (await this.scatter(checked, 'trajectories', plain(options as never), options.signal)).map(
      (r) => r.trajectory as Trajectory,
    );
    const first = parts[0] as Trajectory;
    const concat = (arrays: Float32Array[]) => {
      const out = new Float32Array(arrays.reduce((s, a) => s + a.length, 0));
      let offset = 0;
      for (const a of arrays) {
        out.set(a, offset);
        offset += a.length;
      }
      return out;
    };
    return {
      ...first,
      prompts: checked.prompts,
      emotions: checked.emotions,
      seeds: checked.seeds,
      latents: first.latents.map((_, i) => concat(parts.map((p) => p.latents[i] as Float32Array))),
      logProbs: first.logProbs.map((_, i) => concat(parts.map((p) => p.logProbs[i] as Float32Array))),
      images: parts.flatMap((p) => [...p.images]),
    };
  }

  /**
   * The gradient of one GRPO loss term (PPO-clip + β·KL on transition `step`, averaged over
   * `samples`), computed data-parallel: each worker differentiates the mean over its share of the
   * rows and the shares are combined weighted by their size, which is the gradient of the mean
   * over all rows; the rows' log-probs come back in order. Call {@link sync} first when the
   * adapters changed. See `workerGrpoEngine`.
   */
  async grpoGradients(task: GrpoGradientTask): Promise<GrpoGradientResult> {
    const { samples, trajectory, step } = task;
    const size = trajectory.latentShape[0] * trajectory.latentShape[1] * trajectory.latentShape[2];
    const chunks = splitRows(samples.length, this.threads.length);
    const results = await Promise.all(
      chunks.map(([a, b], w) => {
        const rows = samples.slice(a, b);
        const pick = (arr: Float32Array, per: number) => {
          const out = new Float32Array(rows.length * per);
          rows.forEach((r, j) => {
            out.set(arr.subarray(r * per, (r + 1) * per), j * per);
          });
          return out;
        };
        // Only the two latents of the scored transition are needed; the others stay empty.
        const latents = trajectory.latents.map((l, i) =>
          i === step || i === step + 1 ? pick(l, size) : new Float32Array(0),
        );
        const sub: Trajectory = {
          ...trajectory,
          prompts: rows.map((r) => trajectory.prompts[r] as string),
          emotions: rows.map((r) => trajectory.emotions[r] as Trajectory['emotions'][number]),
          seeds: rows.map((r) => trajectory.seeds[r] as number),
          latents,
          logProbs: trajectory.logProbs.map((l) => pick(l, 1)),
          images: [],
        };
        return this.call(this.threads[w] as Worker, {
          kind: 'grpoGradients',
          trajectory: sub,
          step,
          oldLogProb: task.oldLogProb.slice(a, b),
          advantages: task.advantages.slice(a, b),
          clipRange: task.clipRange,
          klWeight: task.klWeight,
          klScaling: task.klScaling,
          detachUnconditional: task.detachUnconditional,
        });
      }),
    );
    const grads: Record<string, Float32Array> = {};
    const total = { loss: 0, policyLoss: 0, kl: 0 };
    const logProbs: number[] = [];
    results.forEach((r, k) => {
      const part = r.gradients as GrpoGradientResult;
      const [a, b] = chunks[k] as [number, number];
      const weight = (b - a) / samples.length;
      for (const [name, g] of Object.entries(part.grads)) {
        const acc = grads[name] ?? new Float32Array(g.length);
        for (let i = 0; i < g.length; i++) acc[i] = (acc[i] as number) + weight * (g[i] as number);
        grads[name] = acc;
      }
      total.loss += weight * part.loss;
      total.policyLoss += weight * part.policyLoss;
      total.kl += weight * (part.kl ?? 0);
      logProbs.push(...part.logProbs);
    });
    return { grads, logProbs, ...total, kl: task.klWeight > 0 ? total.kl : null };
  }

  /**
   * The gradient of the rectified-flow loss (mean over the batch) with respect to the base
   * weights, computed data-parallel with every random draw given by the caller; the workers'
   * shares are combined weighted by their size. Call {@link sync} with `base: true` after
   * changing the base weights.
   */
  async flowMatchingGradients(batch: FlowMatchingGradientRequest): Promise<FlowMatchingGradientResult> {
    const n = batch.prompts.length;
    const per = batch.images.length / n;
    const chunks = splitRows(n, this.threads.length);
    const results = await Promise.all(
      chunks.map(([a, b], w) =>
        this.call(this.threads[w] as Worker, {
          kind: 'flowMatchingGradients',
          images: batch.images.slice(a * per, b * per),
          prompts: batch.prompts.slice(a, b),
          emotions: batch.emotions.slice(a, b),
          noise: batch.noise.slice(a * per, b * per),
          times: batch.times.slice(a, b),
          dropText: batch.dropText.slice(a, b),
          dropEmotion: batch.dropEmotion.slice(a, b),
        }),
      ),
    );
    const grads: Record<string, Float32Array> = {};
    let loss = 0;
    results.forEach((r, k) => {
      const part = r.flowGradients as FlowMatchingGradientResult;
      const [a, b] = chunks[k] as [number, number];
      const weight = (b - a) / n;
      loss += weight * part.loss;
      for (const [name, g] of Object.entries(part.grads)) {
        const acc = grads[name] ?? new Float32Array(g.length);
        for (let i = 0; i < g.length; i++) acc[i] = (acc[i] as number) + weight * (g[i] as number);
        grads[name] = acc;
      }
    });
    return { grads, loss };
  }

  /**
   * Scores images with a shipped local evaluator (`reward`: createLocalEvaluator, `judge`:
   * createLocalJudge) data-parallel; each worker loads it on first use. Same results, in input
   * order, as the evaluator on one thread.
   */
  async evaluate(
    images: readonly RgbImage[],
    evaluator: LocalEvaluatorKind = 'reward',
  ): Promise<Evaluation[]> {
    if (images.length === 0) throw new InvalidArgumentError('images', 'the batch is empty.');
    const chunks = splitRows(images.length, this.threads.length);
    const results = await Promise.all(
      chunks.map(([a, b], w) =>
        this.call(this.threads[w] as Worker, { kind: 'evaluate', evaluator, images: images.slice(a, b) }),
      ),
    );
    return results.flatMap((r) => r.evaluations ?? []);
  }

  /** Stops the workers. */
  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.threads.map(async (w) => {
        try {
          await this.call(w, { kind: 'close' });
        } catch {
          // A worker that failed already is terminated below.
        }
        await w.terminate();
      }),
    );
  }

  private async scatter(
    request: ReturnType<typeof validateGenerationRequest>,
    kind: 'generate' | 'trajectories',
    options: PlainSamplingOptions,
    signal: AbortSignal | undefined,
  ): Promise<Array<Extract<WorkerResponse, { ok: true }>>> {
    if (signal?.aborted) throw new EmoFeedbackError('ABORTED', 'Sampling was aborted.');
    const chunks = splitRows(request.prompts.length, this.threads.length);
    const results = await Promise.all(
      chunks.map(([a, b], i) =>
        this.call(this.threads[i] as Worker, {
          kind,
          request: {
            prompts: request.prompts.slice(a, b),
            emotions: request.emotions.slice(a, b),
            seeds: request.seeds.slice(a, b),
          },
          options,
        }),
      ),
    );
    if (signal?.aborted) throw new EmoFeedbackError('ABORTED', 'Sampling was aborted.');
    return results;
  }

  private call(
    worker: Worker,
    message: DistributiveOmit<WorkerRequest, 'id'>,
  ): Promise<Extract<WorkerResponse, { ok: true }>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (r) => {
          if (r.ok) resolve(r);
          else reject(r.code ? new EmoFeedbackError(r.code as never, r.error) : new Error(r.error));
        },
        reject,
      });
      worker.postMessage({ ...message, id } as WorkerRequest);
    });
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
