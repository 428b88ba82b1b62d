/**
 * The worker side of {@link ParallelSampler}: rebuilds the generator from a snapshot and samples
 * the rows it is sent. Each image's noise comes from its own seed, so a row gives the same image
 * whichever worker samples it and whatever else is in its batch.
 */
import { parentPort } from 'node:worker_threads';
import {
  createEmoFlowGenerator,
  disposeConditioning,
  type EmoFlowGenerator,
  ready,
  tf,
} from '@emofeedback/core';
import { createLocalEvaluator, createLocalJudge, type LocalEvaluator } from '@emofeedback/reward';
import { ppoClipLoss } from '@emofeedback/rl';
import type {
  FlowMatchingGradientRequest,
  FlowMatchingGradientResult,
  GeneratorSnapshot,
  GrpoGradientRequest,
  GrpoGradientResult,
  NamedArray,
  WorkerRequest,
  WorkerResponse,
} from './protocol.js';

let generator: EmoFlowGenerator | null = null;
const evaluators = new Map<string, Promise<LocalEvaluator>>();

function localEvaluator(kind: 'reward' | 'judge'): Promise<LocalEvaluator> {
  let e = evaluators.get(kind);
  if (!e) {
    e = kind === 'judge' ? createLocalJudge() : createLocalEvaluator();
    evaluators.set(kind, e);
  }
  return e;
}

function assign(variables: ReadonlyMap<string, tf.Variable>, values: Record<string, NamedArray>): void {
  for (const [name, value] of Object.entries(values)) {
    const v = variables.get(name);
    if (!v) throw new Error(`the worker's model has no weight named '${name}'`);
    tf.tidy(() => v.assign(tf.tensor(value.data, value.shape)));
  }
}

function build(snapshot: GeneratorSnapshot): EmoFlowGenerator {
  const g = createEmoFlowGenerator(snapshot.config, {
    sampling: snapshot.sampling,
    id: snapshot.id,
    ...(snapshot.lora ? { lora: snapshot.lora } : {}),
  });
  sync(g, snapshot);
  return g;
}

function sync(g: EmoFlowGenerator, snapshot: GeneratorSnapshot): void {
  if (snapshot.weights) assign(g.model.weights.variables, snapshot.weights);
  if (g.adapters) assign(g.adapters.variables, snapshot.adapters);
  g.setAdaptersEnabled(snapshot.adaptersEnabled);
  g.sampling = snapshot.sampling;
}

/** The GRPO loss of packages/rl's grpoIteration for one step of some rows, and its gradient. */
function grpoGradients(g: EmoFlowGenerator, r: GrpoGradientRequest): GrpoGradientResult {
  const samples = r.trajectory.prompts.map((_, i) => i);
  const refMeans =
    r.klWeight > 0
      ? g.withAdaptersDisabled(() => {
          const ref = g.scoreTrajectory(r.trajectory, { steps: [r.step], samples });
          ref.logProbs.dispose();
          return ref.means;
        })
      : null;
  let policyLoss = 0;
  let approxKl = 0;
  let clipFraction = 0;
  let kl = 0;
  let ratio = 0;
  const names = new Map([...(g.adapters?.variables ?? [])].map(([name, v]) => [v.name, name]));
  const { value, grads } = tf.variableGrads(() => {
    const cur = g.scoreTrajectory(r.trajectory, { steps: [r.step], samples });
    const logProb = tf.reshape(cur.logProbs, [samples.length]);
    const old = tf.tensor1d([...r.oldLogProb]);
    const terms = ppoClipLoss(logProb, old, tf.tensor1d([...r.advantages]), r.clipRange);
    let loss: tf.Scalar = terms.loss;
    if (refMeans) {
      const std = cur.stds[0] as number;
      const klTerm = tf.div(tf.mean(tf.square(tf.sub(cur.means, refMeans))), 2 * std * std) as tf.Scalar;
      kl = klTerm.dataSync()[0] as number;
      loss = tf.add(loss, tf.mul(klTerm, r.klWeight)) as tf.Scalar;
    }
    policyLoss = terms.loss.dataSync()[0] as number;
    approxKl = terms.approxKl.dataSync()[0] as number;
    clipFraction = terms.clipFraction.dataSync()[0] as number;
    ratio = tf.tidy(() => tf.mean(tf.exp(tf.sub(logProb, old))).dataSync()[0] as number);
    return loss;
  }, g.trainableVariables());
  refMeans?.dispose();
  const out: Record<string, Float32Array> = {};
  for (const [key, t] of Object.entries(grads))
    out[names.get(key) ?? key] = (t.dataSync() as Float32Array).slice();
  const loss = value.dataSync()[0] as number;
  tf.dispose([value, ...Object.values(grads)]);
  return { grads: out, loss, policyLoss, approxKl, clipFraction, kl, ratio };
}

/** flowMatchingLoss of @emofeedback/core on the given rows and draws, and its gradient. */
function flowMatchingGradients(
  g: EmoFlowGenerator,
  r: FlowMatchingGradientRequest,
): FlowMatchingGradientResult {
  const n = r.prompts.length;
  const S = g.config.imageSize;
  const names = new Map([...g.model.weights.variables].map(([name, v]) => [v.name, name]));
  const { value, grads } = tf.variableGrads(
    () =>
      tf.tidy(() => {
        const x0 = tf.sub(tf.mul(tf.tensor4d(r.images, [n, S, S, 3]), 2), 1);
        const eps = tf.tensor4d(r.noise, [n, S, S, 3]);
        const t = tf.tensor1d(r.times);
        const t4 = tf.reshape(t, [n, 1, 1, 1]);
        const xt = tf.add(tf.mul(tf.sub(1, t4), x0), tf.mul(t4, eps)) as tf.Tensor4D;
        const cond = g.model.encode(r.prompts, r.emotions, { text: r.dropText, emotion: r.dropEmotion });
        const v = g.model.velocity(xt, t, cond);
        disposeConditioning(cond);
        return tf.mean(tf.square(tf.sub(v, tf.sub(eps, x0)))) as tf.Scalar;
      }),
    g.model.baseVariables(),
  );
  const out: Record<string, Float32Array> = {};
  for (const [key, t] of Object.entries(grads))
    out[names.get(key) ?? key] = (t.dataSync() as Float32Array).slice();
  const loss = value.dataSync()[0] as number;
  tf.dispose([value, ...Object.values(grads)]);
  return { grads: out, loss };
}

async function handle(message: WorkerRequest): Promise<WorkerResponse> {
  switch (message.kind) {
    case 'init':
      await ready({ device: message.device });
      generator?.dispose();
      generator = build(message.snapshot);
      return { id: message.id, ok: true };
    case 'sync':
      if (!generator) throw new Error('the worker was not initialised');
      sync(generator, message.snapshot);
      return { id: message.id, ok: true };
    case 'generate':
      if (!generator) throw new Error('the worker was not initialised');
      return { id: message.id, ok: true, images: await generator.generate(message.request, message.options) };
    case 'trajectories':
      if (!generator) throw new Error('the worker was not initialised');
      return {
        id: message.id,
        ok: true,
        trajectory: await generator.sampleTrajectories(message.request, message.options),
      };
    case 'grpoGradients':
      if (!generator) throw new Error('the worker was not initialised');
      return { id: message.id, ok: true, gradients: grpoGradients(generator, message) };
    case 'flowMatchingGradients':
      if (!generator) throw new Error('the worker was not initialised');
      return { id: message.id, ok: true, flowGradients: flowMatchingGradients(generator, message) };
    case 'evaluate': {
      const evaluator = await localEvaluator(message.evaluator);
      return { id: message.id, ok: true, evaluations: await evaluator.evaluate(message.images) };
    }
    case 'close':
      for (const e of evaluators.values()) (await e).dispose();
      evaluators.clear();
      generator?.dispose();
      generator = null;
      return { id: message.id, ok: true };
  }
}

const port = parentPort;
if (port) {
  // One request at a time, in order.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (message: WorkerRequest) => {
    queue = queue.then(async () => {
      let response: WorkerResponse;
      try {
        response = await handle(message);
      } catch (error) {
        const e = error as { message?: string; code?: string };
        response = {
          id: message.id,
          ok: false,
          error: e?.message ?? String(error),
          ...(typeof e?.code === 'string' ? { code: e.code } : {}),
        };
      }
      const transfer: ArrayBuffer[] = [];
      if (response.ok && response.trajectory) {
        for (const a of response.trajectory.latents) transfer.push(a.buffer as ArrayBuffer);
      }
      port.postMessage(response, transfer);
      if (message.kind === 'close') port.close();
    });
  });
}
