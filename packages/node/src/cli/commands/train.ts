import { appendFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { encodeCheckpoint, tf } from '@emofeedback/core';
import { createLocalCritic } from '@emofeedback/feedback';
import { createLocalEvaluator, createLocalJudge } from '@emofeedback/reward';
import {
  DEFAULT_HELD_OUT_PROMPTS,
  DEFAULT_TRAINING_PROMPTS,
  defaultReward,
  EmoFeedbackTrainer,
  gridTargets,
} from '@emofeedback/rl';
import type { Command } from 'commander';
import { FolderCheckpointStore } from '../../checkpoint-store.js';
import { workerGrpoEngine } from '../../parallel/grpo.js';
import { ParallelSampler } from '../../parallel/sampler.js';
import { parallelLocalEvaluator, withParallelSampling } from '../../parallel/views.js';
import { type CliIo, CliUsageError, intFlag, numberFlag } from '../io.js';
import { createProgress } from '../progress.js';
import { generatorFromFlags } from './shared.js';

interface TrainFlags {
  run: string;
  iterations?: string;
  minutes?: string;
  seed?: string;
  checkpoint?: string;
  every?: string;
  keep?: string;
  prompts?: string;
  evalEvery?: string;
  rank?: string;
  groups?: string;
  groupSize?: string;
  workers?: string;
  json?: boolean;
}

async function readPrompts(file: string): Promise<string[]> {
  const prompts = (await readFile(file, 'utf8'))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (prompts.length === 0) throw new CliUsageError(`--prompts ${file} holds no prompts (one per line)`);
  return prompts;
}

/** Writes files into a folder atomically (temporary folder, then rename). */
async function writeFolder(dir: string, files: Record<string, Uint8Array>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  for (const [name, data] of Object.entries(files)) await writeFile(join(tmp, name), data);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
}

export function registerTrain(program: Command, io: CliIo): void {
  program
    .command('train')
    .description('reward-feedback RL (GRPO on the flow SDE) of the generator, resumable from --run')
    .requiredOption(
      '--run <dir>',
      'run folder: checkpoints, metrics.jsonl and the trained LoRA; rerun to resume',
    )
    .option('--iterations <n>', 'total GRPO iterations', '40')
    .option('--minutes <m>', 'stop after this many minutes (a later run resumes)')
    .option('--seed <n>', 'seed of the run', '0')
    .option('--checkpoint <dir>', 'base generator checkpoint folder (default: the shipped generator)')
    .option('--prompts <file>', 'training prompts, one per line (default: the built-in training prompts)')
    .option('--every <n>', 'checkpoint every n iterations', '5')
    .option('--keep <n>', 'checkpoints kept', '3')
    .option('--eval-every <n>', 'judge held-out prompts every n iterations (0: never)', '0')
    .option('--rank <r>', 'LoRA rank', '4')
    .option('--groups <n>', '(prompt, target) groups per iteration', '4')
    .option('--group-size <n>', 'samples per group', '8')
    .option(
      '--workers <n>',
      'worker threads on the wasm backend (default: one per core; 1: train on the main thread only)',
    )
    .option('--json', 'print a JSON summary on stdout')
    .action(async (flags: TrainFlags) => {
      const iterations = intFlag('iterations', flags.iterations, 40, 0, 1_000_000);
      const seed = intFlag('seed', flags.seed, 0);
      const every = intFlag('every', flags.every, 5, 1);
      const keepLast = intFlag('keep', flags.keep, 3, 1);
      const evalEvery = intFlag('eval-every', flags.evalEvery, 0, 0);
      const rank = intFlag('rank', flags.rank, 4, 1, 64);
      const groupsPerIteration = intFlag('groups', flags.groups, 4, 1, 256);
      const groupSize = intFlag('group-size', flags.groupSize, 8, 2, 256);
      // The wasm backend is single-threaded; other backends use their own threads or a GPU.
      const workers = intFlag(
        'workers',
        flags.workers,
        tf.getBackend() === 'wasm' ? availableParallelism() : 1,
        1,
        256,
      );
      const minutes = flags.minutes === undefined ? undefined : numberFlag('minutes', flags.minutes);
      if (minutes !== undefined && !(minutes > 0))
        throw new CliUsageError(`--minutes must be > 0, got '${flags.minutes}'`);
      const prompts = flags.prompts ? await readPrompts(flags.prompts) : [...DEFAULT_TRAINING_PROMPTS];

      await mkdir(flags.run, { recursive: true });
      const base = await generatorFromFlags(flags.checkpoint);
      base.attachAdapters({ rank, seed });
      const evaluator = await createLocalEvaluator();
      const judge = evalEvery > 0 ? await createLocalJudge() : undefined;
      const metricsFile = join(flags.run, 'metrics.jsonl');
      const progress = createProgress(io, !flags.json);
      // Sampling, judging and gradients over the workers: same results as on one thread.
      const sampler = workers > 1 ? await ParallelSampler.create(base, { workers }) : null;
      const trainer = new EmoFeedbackTrainer({
        generator: sampler ? withParallelSampling(base, sampler) : base,
        evaluator,
        judge: sampler && judge ? parallelLocalEvaluator(sampler, 'judge') : judge,
        ...(sampler ? { engine: workerGrpoEngine(base, sampler) } : {}),
        reward: defaultReward(evaluator),
        critic: createLocalCritic(),
        targets: gridTargets(prompts),
        grpo: { groupsPerIteration, groupSize },
        evaluation: judge
          ? { targets: gridTargets(DEFAULT_HELD_OUT_PROMPTS.slice(0, 4)), every: evalEvery }
          : undefined,
        seed,
        checkpoints: { store: new FolderCheckpointStore(join(flags.run, 'checkpoints')), every, keepLast },
        metricsLog: (line) => appendFile(metricsFile, `${line}\n`),
        onEvent: (e) => {
          if (e.type === 'resume') io.stderr(`resuming from iteration ${e.iteration}\n`);
          if (e.type === 'iteration') progress.update(e.iteration);
        },
      });
      try {
        progress.start(iterations, 'GRPO');
        const signal = minutes ? AbortSignal.timeout(minutes * 60_000) : undefined;
        const started = Date.now();
        const { iterations: done, history } = await trainer.train({ iterations, signal });
        progress.stop();
        if (done % every !== 0) await trainer.save();
        await writeFolder(
          join(flags.run, 'lora'),
          encodeCheckpoint(base, { kind: 'lora', metadata: { iterations: done, seed } }),
        );
        const last = history[history.length - 1];
        const summary = {
          run: flags.run,
          iterations: done,
          iterationsThisRun: history.length,
          seconds: (Date.now() - started) / 1000,
          workers: sampler?.workers ?? 1,
          lastReward: last?.rewardMean ?? null,
          lora: join(flags.run, 'lora'),
          metrics: metricsFile,
        };
        io.stdout(
          flags.json
            ? `${JSON.stringify(summary, null, 2)}\n`
            : `trained to iteration ${done} (${history.length} this run, ${summary.seconds.toFixed(0)} s); LoRA in ${summary.lora}\n`,
        );
      } finally {
        await sampler?.dispose();
        trainer.dispose();
        base.dispose();
        evaluator.dispose?.();
        judge?.dispose?.();
      }
    });
}
