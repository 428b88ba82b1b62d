// Generation with your own LVLM as the evaluator.
//   LVLM_BASE_URL=http://localhost:8000/v1 LVLM_MODEL=Qwen/Qwen2.5-VL-7B-Instruct pnpm start
//   pnpm start --critic lvlm           the LVLM also rewrites the prompts
//   pnpm smoke                         against the built-in loopback server, small run
// Flags: --prompt TEXT --valence V --arousal A --rounds R --images K --seed N --critic lvlm|local
//        --out DIR --timeout MS --json --loopback --smoke
// Environment: LVLM_BASE_URL, LVLM_MODEL, LVLM_API_KEY_ENV (the name of the variable holding the
// key, e.g. OPENAI_API_KEY), EMOFEEDBACK_DEVICE (auto, wasm, cpu, webgpu, tensorflow).
import { parseArgs } from 'node:util';
import type { Device } from '@emofeedback/core';
import { readyNode } from '@emofeedback/node';
import type { LoopbackServer } from '@emofeedback/reward/testing';
import { LOOPBACK_MODEL, startLoopback } from './loopback.js';
import { runCustomLvlm } from './run.js';

// `--valence -2` as well as `--valence=-2`: glue negative numbers to their flag.
const args: string[] = [];
for (const arg of process.argv.slice(2)) {
  const flag = args.at(-1);
  if (/^-\d/.test(arg) && flag?.startsWith('--') && !flag.includes('='))
    args[args.length - 1] = `${flag}=${arg}`;
  else args.push(arg);
}

function fail(message: string): never {
  console.error(`custom-lvlm: ${message}`);
  process.exit(2);
}

const parse = () =>
  parseArgs({
    args,
    options: {
      prompt: { type: 'string', default: 'a boat on the calm sea' },
      valence: { type: 'string', default: '2' },
      arousal: { type: 'string', default: '-1.5' },
      rounds: { type: 'string' },
      images: { type: 'string' },
      seed: { type: 'string', default: '0' },
      critic: { type: 'string', default: 'local' },
      out: { type: 'string', default: 'runs/custom-lvlm' },
      timeout: { type: 'string', default: '60000' },
      json: { type: 'boolean', default: false },
      loopback: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
    },
  });
let values: ReturnType<typeof parse>['values'];
try {
  values = parse().values;
} catch (error) {
  fail((error as Error).message);
}
function number(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value)) fail(`--${name} expects a number, got "${text}"`);
  return value;
}

const critic = values.critic;
if (critic !== 'lvlm' && critic !== 'local') fail(`--critic is lvlm or local, got "${critic}"`);
const log = values.json ? (line: string) => console.error(line) : (line: string) => console.log(line);

let server: LoopbackServer | undefined;
let baseURL = process.env.LVLM_BASE_URL;
let model = process.env.LVLM_MODEL;
if (values.loopback) {
  server = await startLoopback();
  baseURL = server.baseURL;
  model = LOOPBACK_MODEL;
  log(`loopback LVLM at ${baseURL}`);
}
if (!baseURL) fail('set LVLM_BASE_URL (e.g. http://localhost:8000/v1), or pass --loopback');
if (!model) fail('set LVLM_MODEL to the model name the server serves');

const { device, reason } = await readyNode({
  device: (process.env.EMOFEEDBACK_DEVICE ?? 'auto') as Device,
});
log(`device: ${device} (${reason})`);

try {
  const summary = await runCustomLvlm({
    baseURL,
    model,
    ...(process.env.LVLM_API_KEY_ENV ? { apiKeyEnv: process.env.LVLM_API_KEY_ENV } : {}),
    critic,
    prompt: values.prompt,
    target: {
      valence: number('valence', values.valence, 2),
      arousal: number('arousal', values.arousal, -1.5),
    },
    rounds: number('rounds', values.rounds, values.smoke ? 2 : 3),
    imagesPerRound: number('images', values.images, values.smoke ? 4 : 8),
    seed: number('seed', values.seed, 0),
    timeoutMs: number('timeout', values.timeout, 60_000),
    out: values.out,
    log,
  });
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else if (summary.best)
    log(
      `best: «${summary.best.prompt}» valence ${summary.best.valence.toFixed(2)}, arousal ${summary.best.arousal.toFixed(2)}, distance ${summary.best.distance.toFixed(3)}; wrote ${values.out}/`,
    );
  else log(`no image could be scored (${summary.evaluatorMetrics.failed} failed requests)`);
  process.exitCode = summary.best ? 0 : 1;
} finally {
  await server?.close();
}
