import { type Device, type Emotion, emotionDistance, type RgbImage } from '@emofeedback/core';
import { type Candidate, type FeedbackEvent, runFeedbackLoop } from '@emofeedback/feedback';
import type { Evaluation } from '@emofeedback/reward';
import { drawImage, probeWebGL, probeWebGPU, readyBrowser } from '@emofeedback/web';
import { type Engine, loadEngine } from './engine.js';
import { GrpoSession } from './grpo.js';
import { describeEmotion, EmotionPad, type PadReading } from './pad.js';
import { recordingEvaluator } from './recording.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const ui = {
  deviceForm: $<HTMLFormElement>('backend-form'),
  device: $<HTMLSelectElement>('device'),
  backendStatus: $<HTMLOutputElement>('backend-status'),
  webgpu: $<HTMLParagraphElement>('webgpu-check'),
  padSlot: $<HTMLDivElement>('pad-slot'),
  valence: $<HTMLInputElement>('valence'),
  arousal: $<HTMLInputElement>('arousal'),
  targetText: $<HTMLParagraphElement>('target-text'),
  promptForm: $<HTMLFormElement>('prompt-form'),
  prompt: $<HTMLInputElement>('prompt'),
  images: $<HTMLInputElement>('images'),
  rounds: $<HTMLInputElement>('rounds'),
  steps: $<HTMLInputElement>('steps'),
  seed: $<HTMLInputElement>('seed'),
  generate: $<HTMLButtonElement>('generate'),
  feedback: $<HTMLButtonElement>('feedback'),
  stop: $<HTMLButtonElement>('stop'),
  progress: $<HTMLParagraphElement>('progress'),
  gallery: $<HTMLDivElement>('gallery'),
  bestCanvas: $<HTMLCanvasElement>('best-canvas'),
  bestCaption: $<HTMLElement>('best-caption'),
  trace: $<HTMLOListElement>('trace'),
  grpoForm: $<HTMLFormElement>('grpo-form'),
  grpoIterations: $<HTMLInputElement>('grpo-iterations'),
  grpoGroup: $<HTMLInputElement>('grpo-group'),
  grpoSteps: $<HTMLInputElement>('grpo-steps'),
  grpoLr: $<HTMLInputElement>('grpo-lr'),
  grpoTrain: $<HTMLButtonElement>('grpo-train'),
  grpoAdapters: $<HTMLInputElement>('grpo-adapters'),
  grpoLog: $<HTMLOListElement>('grpo-log'),
};

const params = new URLSearchParams(location.search);
const wasmPaths = new URL('tfjs-wasm/', document.baseURI).href;
const pad = new EmotionPad({ valence: Number(ui.valence.value), arousal: Number(ui.arousal.value) });
ui.padSlot.append(pad.element);

let engine: Engine | null = null;
let grpo: GrpoSession | null = null;
let busy = false;
let abort: AbortController | null = null;
/** Readings currently on the pad (cleared when the target moves). */
let readings: PadReading[] = [];

const fmt = (x: number) => (x >= 0 ? `+${x.toFixed(2)}` : x.toFixed(2));

function setState(state: 'loading' | 'ready' | 'busy' | 'error'): void {
  document.body.dataset.state = state;
  busy = state === 'busy';
  const usable = state === 'ready' && engine !== null;
  ui.generate.disabled = !usable;
  ui.feedback.disabled = !usable;
  ui.grpoTrain.disabled = !usable;
  ui.grpoAdapters.disabled = !usable || grpo === null;
  ui.stop.disabled = !busy;
  ui.device.disabled = busy;
  (ui.deviceForm.querySelector('button') as HTMLButtonElement).disabled = busy;
}

function showTarget(e: Emotion): void {
  ui.valence.value = e.valence.toFixed(1);
  ui.arousal.value = e.arousal.toFixed(1);
  ui.targetText.textContent = `Target: ${describeEmotion(e)}`;
}

pad.onChange((e) => {
  showTarget(e);
  readings = [];
  pad.showReadings(readings);
});
for (const input of [ui.valence, ui.arousal]) {
  input.addEventListener('change', () => {
    const v = Number(ui.valence.value);
    const a = Number(ui.arousal.value);
    if (Number.isFinite(v) && Number.isFinite(a)) pad.set({ valence: v, arousal: a });
    showTarget(pad.value);
  });
}
showTarget(pad.value);

function intOf(input: HTMLInputElement, fallback: number): number {
  const n = Math.round(Number(input.value));
  const min = Number(input.min || Number.NEGATIVE_INFINITY);
  const max = Number(input.max || Number.POSITIVE_INFINITY);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

function readingText(evaluation: Evaluation, target: Emotion): string {
  if (!evaluation.ok) return `not scored: ${evaluation.message}`;
  return `V ${fmt(evaluation.valence)} · A ${fmt(evaluation.arousal)} · distance ${emotionDistance(evaluation, target).toFixed(2)}`;
}

function addToGallery(images: readonly RgbImage[], evaluations: readonly Evaluation[], round: number): void {
  const target = pad.value;
  images.forEach((image, i) => {
    const figure = document.createElement('figure');
    figure.className = 'tile';
    const canvas = document.createElement('canvas');
    canvas.width = 96;
    canvas.height = 96;
    canvas.dataset.testid = 'generated';
    canvas.setAttribute('role', 'img');
    const evaluation = evaluations[i] as Evaluation;
    const text = readingText(evaluation, target);
    canvas.setAttribute('aria-label', `Round ${round + 1}, image ${i + 1}: ${text}`);
    drawImage(canvas, image);
    const caption = document.createElement('figcaption');
    caption.dataset.testid = 'reading';
    caption.textContent = `R${round + 1}·${i + 1} ${text}`;
    figure.append(canvas, caption);
    ui.gallery.append(figure);
    if (evaluation.ok)
      readings.push({
        valence: evaluation.valence,
        arousal: evaluation.arousal,
        round,
        label: caption.textContent,
      });
  });
}

function markBest(best: Candidate | null): void {
  let bestIndex = -1;
  if (best?.evaluation.ok) {
    const { valence, arousal } = best.evaluation;
    bestIndex = readings.findIndex((r) => r.valence === valence && r.arousal === arousal);
  }
  readings = readings.map((r, i) => ({ ...r, best: i === bestIndex }));
  pad.showReadings(readings);
  if (!best) return;
  drawImage(ui.bestCanvas, best.image);
  ui.bestCaption.textContent = `Best: round ${best.round + 1}, seed ${best.seed} — ${readingText(best.evaluation, pad.value)} — “${best.prompt}”`;
}

function traceItem(round: number, prompt: string): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.testid = 'trace-round';
  const h = document.createElement('h3');
  h.textContent = `Round ${round + 1}`;
  const p = document.createElement('p');
  p.className = 'trace-prompt';
  p.textContent = `Prompt: “${prompt}”`;
  li.append(h, p);
  ui.trace.append(li);
  return li;
}

function appendText(parent: HTMLElement, className: string, text: string): void {
  const p = document.createElement('p');
  p.className = className;
  p.textContent = text;
  parent.append(p);
}

function clearOutputs(): void {
  ui.gallery.replaceChildren();
  ui.trace.replaceChildren();
  readings = [];
  pad.showReadings(readings);
}

async function withBusy(label: string, run: (signal: AbortSignal) => Promise<void>): Promise<void> {
  if (!engine || busy) return;
  abort = new AbortController();
  setState('busy');
  ui.progress.textContent = label;
  const started = performance.now();
  try {
    await run(abort.signal);
    ui.progress.textContent = `Done in ${((performance.now() - started) / 1000).toFixed(1)} s.`;
    setState('ready');
  } catch (error) {
    const aborted = abort.signal.aborted;
    ui.progress.textContent = aborted ? 'Stopped.' : `Failed: ${(error as Error).message}`;
    setState('ready');
  } finally {
    abort = null;
  }
}

/** One round: generate a batch for the prompt and target, score it, show it. */
async function generateOnce(): Promise<void> {
  await withBusy('Generating…', async (signal) => {
    const current = engine as Engine;
    clearOutputs();
    const target = pad.value;
    const n = intOf(ui.images, 4);
    const seed0 = intOf(ui.seed, 0);
    const prompt = ui.prompt.value.trim();
    const seeds = Array.from({ length: n }, (_, i) => seed0 + i);
    const images = await current.generator.generate(
      { prompts: seeds.map(() => prompt), emotions: seeds.map(() => target), seeds },
      {
        steps: intOf(ui.steps, 10),
        signal,
        onProgress: (p) => {
          ui.progress.textContent = `Generating: ${p.stage} ${p.done}/${p.total}`;
        },
      },
    );
    ui.progress.textContent = 'Scoring with the local evaluator…';
    const evaluations = await current.evaluator.evaluate(images, { signal });
    addToGallery(images, evaluations, 0);
    const candidates: Candidate[] = images.map((image, index) => {
      const evaluation = evaluations[index] as Evaluation;
      return {
        round: 0,
        index,
        prompt,
        seed: seeds[index] as number,
        image,
        evaluation,
        distance: evaluation.ok ? emotionDistance(evaluation, target) : Number.POSITIVE_INFINITY,
      };
    });
    const best = candidates.reduce<Candidate | null>(
      (b, c) => (b === null || c.distance < b.distance ? c : b),
      null,
    );
    markBest(best && Number.isFinite(best.distance) ? best : null);
  });
}

/** The textual-feedback loop, round by round, with its trace. */
async function runLoop(): Promise<void> {
  await withBusy('Running the feedback loop…', async (signal) => {
    const current = engine as Engine;
    clearOutputs();
    const target = pad.value;
    const rounds = intOf(ui.rounds, 3);
    let item: HTMLLIElement | null = null;
    let round = 0;
    const evaluator = recordingEvaluator(current.evaluator, (images, evaluations) => {
      addToGallery(images, evaluations, round);
    });
    const onEvent = (event: FeedbackEvent) => {
      if (event.type === 'round-start') {
        round = event.round;
        item = traceItem(event.round, event.prompt);
        ui.progress.textContent = `Round ${event.round + 1} of ${rounds}: generating…`;
      } else if (event.type === 'round-scored') {
        if (item) {
          const best = event.best;
          appendText(
            item,
            'trace-score',
            best ? `Best this round: ${readingText(best.evaluation, target)}` : 'No image could be scored.',
          );
        }
        markBest(event.globalBest);
        ui.progress.textContent = `Round ${event.round + 1} of ${rounds}: critiquing…`;
      } else if (event.type === 'critique' && item) {
        if (event.critique) {
          appendText(item, 'trace-critique', `Critique: ${event.critique.analysis}`);
          if (event.critique.suggestions.length)
            appendText(item, 'trace-suggestions', `Suggestions: ${event.critique.suggestions.join('; ')}`);
          appendText(item, 'trace-refined', `Next prompt: “${event.critique.refinedPrompt}”`);
        } else {
          appendText(item, 'trace-error', `The critic failed: ${event.error}`);
        }
      } else if (event.type === 'done') {
        const li = document.createElement('li');
        li.className = 'trace-done';
        li.dataset.testid = 'trace-done';
        li.textContent = `Stopped (${event.stopReason.replace('_', ' ')}).`;
        ui.trace.append(li);
        markBest(event.best);
      }
    };
    await runFeedbackLoop({
      generator: current.generator,
      evaluator,
      critic: current.critic,
      prompt: ui.prompt.value,
      target,
      rounds,
      imagesPerRound: intOf(ui.images, 4),
      steps: intOf(ui.steps, 10),
      seed: intOf(ui.seed, 0),
      signal,
      onEvent,
    });
  });
}

ui.promptForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  void generateOnce();
});
ui.feedback.addEventListener('click', () => void runLoop());
ui.stop.addEventListener('click', () => abort?.abort());

async function startBackend(device: Device): Promise<void> {
  setState('loading');
  ui.backendStatus.textContent = `starting ${device}…`;
  try {
    const result = await readyBrowser({ device, wasmPaths });
    ui.backendStatus.textContent = result.backend;
    ui.backendStatus.title = result.reason;
    document.body.dataset.backend = result.backend;
  } catch (error) {
    ui.backendStatus.textContent = `${device} unavailable`;
    ui.backendStatus.title = (error as Error).message;
    ui.progress.textContent = (error as Error).message;
    setState(engine ? 'ready' : 'error');
    return;
  }
  if (!engine) {
    ui.progress.textContent = 'Loading the generator and the evaluator…';
    try {
      engine = await loadEngine();
      ui.progress.textContent = `Ready: ${engine.description}.`;
    } catch (error) {
      ui.progress.textContent = `Cannot load the models: ${(error as Error).message}`;
      setState('error');
      return;
    }
  }
  setState('ready');
}

function grpoLine(text: string): void {
  const li = document.createElement('li');
  li.textContent = text;
  ui.grpoLog.append(li);
}

/** A few GRPO iterations on the current prompt and target, checkpointed in IndexedDB. */
async function fineTune(): Promise<void> {
  await withBusy('Fine-tuning with GRPO…', async (signal) => {
    const current = engine as Engine;
    grpo ??= new GrpoSession(current.generator, current.evaluator);
    const iterations = intOf(ui.grpoIterations, 2);
    let started = performance.now();
    await grpo.train(
      ui.prompt.value.trim(),
      pad.value,
      {
        iterations,
        groupSize: intOf(ui.grpoGroup, 4),
        steps: intOf(ui.grpoSteps, 6),
        learningRate: Number(ui.grpoLr.value) || 3e-3,
      },
      (event) => {
        if (event.type === 'iteration') {
          const m = event.metrics;
          const seconds = ((performance.now() - started) / 1000).toFixed(1);
          started = performance.now();
          grpoLine(
            `iteration ${event.iteration}: reward ${m.rewardMean.toFixed(3)} ± ${m.rewardStd.toFixed(3)}, ` +
              `loss ${m.loss.toExponential(2)}, KL ${m.approxKl.toExponential(1)}, ${seconds} s`,
          );
          ui.progress.textContent = `Fine-tuning: iteration ${event.iteration} done.`;
        } else if (event.type === 'checkpoint') {
          grpoLine(`checkpoint of iteration ${event.iteration} saved to IndexedDB`);
        } else if (event.type === 'resume') {
          grpoLine(`resumed from the checkpoint of iteration ${event.iteration}`);
        }
      },
      signal,
    );
    ui.grpoAdapters.checked = true;
  });
}

ui.grpoForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  void fineTune();
});
ui.grpoAdapters.addEventListener('change', () => grpo?.setAdaptersEnabled(ui.grpoAdapters.checked));

ui.deviceForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  void startBackend(ui.device.value as Device);
});

void probeWebGPU().then((probe) => {
  const gl = probeWebGL();
  ui.webgpu.textContent = `WebGPU check: ${probe.summary} WebGL: ${gl.summary}.`;
  ui.webgpu.dataset.available = String(probe.adapter);
  ui.webgpu.dataset.software = String(probe.software);
});

const requested = params.get('device');
if (requested && Array.from(ui.device.options).some((o) => o.value === requested))
  ui.device.value = requested;
void startBackend(ui.device.value as Device);
