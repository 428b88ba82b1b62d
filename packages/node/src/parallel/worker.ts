/**
 * The worker side of {@link ParallelSampler}: rebuilds the generator from a snapshot and samples
 * the rows it is sent. Each image's noise comes from its own seed, so a row gives the same image
 * whichever worker samples it and whatever else is in its batch.
 */
import { parentPort } from 'node:worker_threads';
import {
  createEmoFlowGenerator,
  type EmoFlowGenerator,
  flowMatchingLossWith,
  ready,
  tf,
} from '@emofeedback/core';
import { createLocalEvaluator, createLocalJudge, type LocalEvaluator } from '@emofeedback/reward';
import { grpoStepGradients } from '@emofeedback/rl';
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

/** The GRPO loss of one step of the rows this worker was sent, and its gradient. */
function grpoGradients(g: EmoFlowGenerator, r: GrpoGradientRequest): GrpoGradientResult {
  const { grads, terms } = grpoStepGradients(g, r.trajectory, {
    ...r,
    samples: r.trajectory.prompts.map((_, i) => i),
  });
  const names = new Map([...(g.adapters?.variables ?? [])].map(([name, v]) => [v.name, name]));
  const out: Record<string, Float32Array> = {};
  for (const [key, t] of Object.entries(grads))
    out[names.get(key) ?? key] = (t.dataSync() as Float32Array).slice();
  tf.dispose(Object.values(grads));
  const { loss, policyLoss, kl, logProbs } = terms;
  return { grads: out, logProbs: [...logProbs], loss, policyLoss, kl };
}

/** flowMatchingLoss of @emofeedback/core on the given rows and draws, and its gradient. */
function flowMatchingGradients(
  g: EmoFlowGenerator,
  r: FlowMatchingGradientRequest,
): FlowMatchingGradientResult {
  const S = g.config.imageSize;
  const names = new Map([...g.model.weights.variables].map(([name, v]) => [v.name, name]));
  const images = tf.tensor4d(r.images, [r.prompts.length, S, S, 3]);
  const { value, grads } = tf.variableGrads(
    () => flowMatchingLossWith(g, images, r),
    g.model.baseVariables(),
  );
  images.dispose();
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
