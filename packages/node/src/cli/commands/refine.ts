import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Emotion } from '@emofeedback/core';
import {
  createLocalCritic,
  createOpenAICompatibleCritic,
  type FeedbackTrace,
  type PromptCritic,
  runFeedbackLoop,
} from '@emofeedback/feedback';
import { createLocalJudge } from '@emofeedback/reward';
import type { Command } from 'commander';
import { encodePng } from '../../files/images.js';
import { type CliIo, CliUsageError, intFlag } from '../io.js';
import { createProgress } from '../progress.js';
import { type EvaluatorFlags, evaluatorFromFlags, evaluatorOptions } from './evaluate.js';
import { emotionFromFlags, generatorFromFlags } from './shared.js';

interface RefineFlags extends EvaluatorFlags {
  prompt: string;
  valence?: string;
  arousal?: string;
  rounds?: string;
  imagesPerRound?: string;
  seed?: string;
  checkpoint?: string;
  lora?: string;
  criticUrl?: string;
  criticModel?: string;
  out?: string;
  json?: boolean;
}

function criticFromFlags(flags: RefineFlags, io: CliIo): PromptCritic {
  if (flags.criticUrl || flags.criticModel) {
    if (!flags.criticUrl || !flags.criticModel)
      throw new CliUsageError('--critic-url and --critic-model go together');
    return createOpenAICompatibleCritic({
      baseURL: flags.criticUrl,
      model: flags.criticModel,
      apiKey: flags.apiKeyEnv ? io.env[flags.apiKeyEnv] : undefined,
    });
  }
  return createLocalCritic();
}

/** The trace as JSON: every candidate with its scorer reading and judged errors, images as files. */
function traceJson(
  trace: FeedbackTrace,
  judged: Map<string, { valence: number; arousal: number }>,
  files: Map<string, string>,
) {
  const key = (round: number, index: number) => `${round}/${index}`;
  const candidate = (c: FeedbackTrace['rounds'][number]['candidates'][number]) => {
    const j = judged.get(key(c.round, c.index));
    return {
      round: c.round,
      index: c.index,
      seed: c.seed,
      prompt: c.prompt,
      scorer: c.evaluation.ok
        ? { valence: c.evaluation.valence, arousal: c.evaluation.arousal, distance: c.distance }
        : { failure: c.evaluation.failure, message: c.evaluation.message },
      judged: j
        ? {
            valence: j.valence,
            arousal: j.arousal,
            valenceError: Math.abs(j.valence - trace.target.valence),
            arousalError: Math.abs(j.arousal - trace.target.arousal),
          }
        : null,
      file: files.get(key(c.round, c.index)) ?? null,
    };
  };
  return {
    prompt: trace.userPrompt,
    target: trace.target,
    seed: trace.seed,
    stopReason: trace.stopReason,
    calls: trace.calls,
    failedEvaluations: trace.failedEvaluations,
    totalMs: trace.totalMs,
    rounds: trace.rounds.map((r) => ({
      round: r.round,
      prompt: r.prompt,
      conditioning: r.conditioning,
      seeds: r.seeds,
      critique: r.critique ?? null,
      critiqueError: r.critiqueError ?? null,
      timings: r.timings,
      candidates: r.candidates.map(candidate),
    })),
    best: trace.best ? candidate(trace.best) : null,
  };
}

export function registerRefine(program: Command, io: CliIo): void {
  evaluatorOptions(
    program
      .command('refine')
      .description(
        'self-promotion textual feedback: rounds of images, critique, rewritten prompt; keeps the best image',
      )
      .requiredOption('--prompt <text>', 'what the image shows')
      .option('--valence <v>', 'target valence in [-3, 3]')
      .option('--arousal <a>', 'target arousal in [-3, 3]')
      .option('--rounds <n>', 'rounds', '3')
      .option('--images-per-round <n>', 'images per round', '8')
      .option('--seed <n>', 'seed of the image seeds', '0')
      .option('--checkpoint <dir>', 'a generator checkpoint folder (default: the shipped generator)')
      .option('--lora <dir>', "LoRA adapters from a train run (its 'lora' folder)")
      .option(
        '--critic-url <url>',
        'an OpenAI-compatible endpoint for the LVLM critic (default: the local critic)',
      )
      .option('--critic-model <name>', 'the critic model name at --critic-url')
      .option('--out <dir>', 'write every candidate as PNG and the trace as trace.json into this folder')
      .option('--json', 'print the trace as JSON on stdout'),
  ).action(async (flags: RefineFlags) => {
    const target: Emotion = emotionFromFlags(flags);
    const rounds = intFlag('rounds', flags.rounds, 3, 1, 20);
    const imagesPerRound = intFlag('images-per-round', flags.imagesPerRound, 8, 1, 64);
    const seed = intFlag('seed', flags.seed, 0);
    const critic = criticFromFlags(flags, io);
    const generator = await generatorFromFlags(flags.checkpoint, flags.lora);
    const evaluator = await evaluatorFromFlags(flags, io);
    // The judge measures; it never picks (the scorer does), so its figures are independent.
    const judge = await createLocalJudge();
    const progress = createProgress(io, !flags.json);
    try {
      progress.start(rounds, 'rounds');
      const trace = await runFeedbackLoop({
        generator,
        evaluator,
        critic,
        prompt: flags.prompt,
        target,
        rounds,
        imagesPerRound,
        seed,
        onEvent: (e) => {
          if (e.type === 'round-scored') progress.update(e.round + 1);
        },
      });
      progress.stop();
      const all = trace.rounds.flatMap((r) => r.candidates);
      const readings = await judge.evaluate(all.map((c) => c.image));
      const judged = new Map<string, { valence: number; arousal: number }>();
      all.forEach((c, i) => {
        const e = readings[i];
        if (e?.ok) judged.set(`${c.round}/${c.index}`, { valence: e.valence, arousal: e.arousal });
      });
      const files = new Map<string, string>();
      if (flags.out) {
        await mkdir(flags.out, { recursive: true });
        for (const c of all) {
          const name = `round${c.round}-${String(c.index).padStart(2, '0')}.png`;
          await writeFile(join(flags.out, name), encodePng(c.image));
          files.set(`${c.round}/${c.index}`, name);
        }
      }
      const json = traceJson(trace, judged, files);
      if (flags.out) {
        if (trace.best) await writeFile(join(flags.out, 'best.png'), encodePng(trace.best.image));
        await writeFile(join(flags.out, 'trace.json'), `${JSON.stringify(json, null, 2)}\n`);
      }
      if (flags.json) {
        io.stdout(`${JSON.stringify(json, null, 2)}\n`);
        return;
      }
      for (const r of json.rounds) {
        const best = r.candidates.reduce((b, c) =>
          (c.scorer.distance ?? 99) < (b.scorer.distance ?? 99) ? c : b,
        );
        io.stdout(
          `round ${r.round}: «${r.prompt}» best scorer distance ${(best.scorer.distance ?? Number.NaN).toFixed(3)}\n`,
        );
        if (r.critique) io.stdout(`  critique: ${r.critique.analysis}\n`);
        if (r.critiqueError) io.stdout(`  critique failed: ${r.critiqueError}\n`);
      }
      const b = json.best;
      if (b?.judged) {
        io.stdout(
          `best: round ${b.round} image ${b.index}, judged valence ${b.judged.valence.toFixed(2)} arousal ${b.judged.arousal.toFixed(2)} (errors ${b.judged.valenceError.toFixed(2)}, ${b.judged.arousalError.toFixed(2)}); stopped: ${trace.stopReason}\n`,
        );
      }
    } finally {
      generator.dispose();
      evaluator.dispose?.();
      judge.dispose?.();
    }
  });
}
