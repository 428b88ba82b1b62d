import { readdir } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { InvalidArgumentError, type RgbImage } from '@emofeedback/core';
import {
  calibrate,
  createLocalEvaluator,
  createLocalJudge,
  createOpenAICompatibleEvaluator,
  type EmotionEvaluator,
  type Evaluation,
  formatInterval,
  targetAgreement,
} from '@emofeedback/reward';
import type { Command } from 'commander';
import { readImage } from '../../files/images.js';
import { loadRatedDataset, type RatedDatasetScale } from '../../files/rated-dataset.js';
import { type CliIo, CliUsageError } from '../io.js';
import { createProgress } from '../progress.js';

export interface EvaluatorFlags {
  judge?: boolean;
  lvlmUrl?: string;
  lvlmModel?: string;
  apiKeyEnv?: string;
}

/** Adds the flags that choose an evaluator: the local one, the local judge, or an LVLM endpoint. */
export function evaluatorOptions(command: Command): Command {
  return command
    .option('--judge', 'use the independent local judge instead of the reward evaluator')
    .option(
      '--lvlm-url <url>',
      'an OpenAI-compatible endpoint (vLLM, llama.cpp, Ollama, LM Studio, a hosted API)',
    )
    .option('--lvlm-model <name>', 'the model name at --lvlm-url')
    .option('--api-key-env <var>', 'environment variable holding the endpoint API key', 'OPENAI_API_KEY');
}

/** Builds the evaluator the flags ask for. */
export async function evaluatorFromFlags(flags: EvaluatorFlags, io: CliIo): Promise<EmotionEvaluator> {
  if (flags.lvlmUrl || flags.lvlmModel) {
    if (!flags.lvlmUrl || !flags.lvlmModel)
      throw new CliUsageError('--lvlm-url and --lvlm-model go together');
    if (flags.judge)
      throw new CliUsageError('--judge is a local evaluator; it cannot be combined with --lvlm-url');
    const apiKey = flags.apiKeyEnv ? io.env[flags.apiKeyEnv] : undefined;
    return createOpenAICompatibleEvaluator({ baseURL: flags.lvlmUrl, model: flags.lvlmModel, apiKey });
  }
  return flags.judge ? createLocalJudge() : createLocalEvaluator();
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

async function listImages(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    throw new InvalidArgumentError(
      '--images',
      `cannot read the folder ${dir} (${(error as NodeJS.ErrnoException).code}).`,
    );
  }
  const files = entries.filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort();
  if (files.length === 0) throw new InvalidArgumentError('--images', `${dir} holds no .png or .jpg images.`);
  return files;
}

/** Evaluates in batches so a large folder never holds every image in memory at once. */
async function evaluateAll(
  evaluator: EmotionEvaluator,
  count: number,
  load: (i: number) => Promise<RgbImage>,
  onProgress: (done: number) => void,
  batch = 16,
): Promise<Evaluation[]> {
  const results: Evaluation[] = [];
  for (let start = 0; start < count; start += batch) {
    const images = await Promise.all(
      Array.from({ length: Math.min(batch, count - start) }, (_, k) => load(start + k)),
    );
    // one evaluation call per image size, since a batch needs one size
    const bySize = new Map<string, number[]>();
    images.forEach((img, k) => {
      const key = `${img.width}x${img.height}`;
      bySize.set(key, [...(bySize.get(key) ?? []), k]);
    });
    const out = new Array<Evaluation>(images.length);
    for (const indices of bySize.values()) {
      const evals = await evaluator.evaluate(indices.map((k) => images[k] as RgbImage));
      indices.forEach((k, j) => {
        out[k] = evals[j] as Evaluation;
      });
    }
    results.push(...out);
    onProgress(results.length);
  }
  return results;
}

interface EvaluateFlags extends EvaluatorFlags {
  images: string;
  ratings?: string;
  scale: string;
  json?: boolean;
}

export function registerEvaluate(program: Command, io: CliIo): void {
  evaluatorOptions(
    program
      .command('evaluate')
      .description('read the valence and arousal of images; with --ratings, measure against human ratings')
      .requiredOption('--images <dir>', 'folder of PNG or JPEG images')
      .option(
        '--ratings <csv>',
        'ratings CSV (columns file, valence_mean, arousal_mean) for a calibration report',
      )
      .option('--scale <scale>', 'scale of the ratings: likert7, sam9 or canonical', 'canonical')
      .option('--json', 'print JSON on stdout'),
  ).action(async (flags: EvaluateFlags) => {
    const progress = createProgress(io, !flags.json);
    const evaluator = await evaluatorFromFlags(flags, io);
    try {
      if (flags.ratings) {
        if (!['likert7', 'sam9', 'canonical'].includes(flags.scale)) {
          throw new CliUsageError(`--scale must be likert7, sam9 or canonical, got '${flags.scale}'`);
        }
        const dataset = await loadRatedDataset(dirname(flags.ratings), {
          scale: flags.scale as RatedDatasetScale,
          ratingsFile: basename(flags.ratings),
        });
        progress.start(dataset.items.length, 'evaluating');
        const report = await calibrate(evaluator, dataset.items, {
          onProgress: (done) => progress.update(done),
        });
        progress.stop();
        const images = dataset.items.map((item, i) => {
          const e = report.evaluations[i] as Evaluation;
          return e.ok
            ? {
                file: item.file,
                valence: e.valence,
                arousal: e.arousal,
                human: { valence: item.valence, arousal: item.arousal },
              }
            : { file: item.file, failure: e.failure, message: e.message };
        });
        // Rank agreement and slope against the human ratings, which a compressed reading cannot fake.
        const scored = images.flatMap((img) => ('human' in img && img.human ? [img] : []));
        const agreement = (axis: 'valence' | 'arousal') =>
          scored.length >= 4
            ? targetAgreement(
                scored.map((img) => img[axis]),
                scored.map((img) => img.human[axis]),
              )
            : undefined;
        const metrics = {
          valence: { ...report.valence, agreement: agreement('valence') },
          arousal: { ...report.arousal, agreement: agreement('arousal') },
          n: report.n,
          failed: report.failed,
        };
        if (flags.json) {
          io.stdout(`${JSON.stringify({ evaluator: evaluator.id, images, metrics }, null, 2)}\n`);
        } else {
          io.stdout(`evaluator ${evaluator.id}: ${report.n} images, ${report.failed} failed\n`);
          io.stdout('axis      MAE     Pearson r  CCC     Spearman ρ [95%]      slope [95%]\n');
          for (const axis of ['valence', 'arousal'] as const) {
            const m = metrics[axis];
            const a = m.agreement;
            io.stdout(
              `${axis.padEnd(8)}  ${m.mae.toFixed(3)}   ${m.pearson.toFixed(3).padStart(6)}     ${m.ccc.toFixed(3)}   ${a ? formatInterval(a.spearman).padEnd(20) : 'n/a'.padEnd(20)}  ${a ? formatInterval(a.slope) : 'n/a'}\n`,
            );
          }
        }
        return;
      }
      const files = await listImages(flags.images);
      progress.start(files.length, 'evaluating');
      const evaluations = await evaluateAll(
        evaluator,
        files.length,
        (i) => readImage(join(flags.images, files[i] as string)),
        (done) => progress.update(done),
      );
      progress.stop();
      const images = files.map((file, i) => {
        const e = evaluations[i] as Evaluation;
        return e.ok
          ? { file, valence: e.valence, arousal: e.arousal, failure: undefined, message: undefined }
          : { file, valence: undefined, arousal: undefined, failure: e.failure, message: e.message };
      });
      if (flags.json) io.stdout(`${JSON.stringify({ evaluator: evaluator.id, images }, null, 2)}\n`);
      else {
        for (const img of images) {
          io.stdout(
            img.failure === undefined
              ? `${img.file}\tvalence ${img.valence?.toFixed(2)}\tarousal ${img.arousal?.toFixed(2)}\n`
              : `${img.file}\tfailed (${img.failure}): ${img.message}\n`,
          );
        }
      }
    } finally {
      evaluator.dispose?.();
    }
  });
}
