import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { emotionGrid, imageGrid } from '@emofeedback/core';
import { DEFAULT_HELD_OUT_PROMPTS } from '@emofeedback/rl';
import type { Command } from 'commander';
import { readImage } from '../../files/images.js';
import { type ReportData, type ReportSeries, renderReport } from '../../report.js';
import { type CliIo, CliUsageError, intFlag } from '../io.js';
import { generatorFromFlags } from './shared.js';

interface ReportFlags {
  run: string;
  out: string;
  checkpoint?: string;
  trace?: string;
  prompts?: string;
}

async function readMetrics(file: string): Promise<Record<string, unknown>[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new CliUsageError(`${file} does not exist; run 'emofeedback train --run <dir>' first`);
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line, i) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new CliUsageError(`${file}, line ${i + 1}: not JSON`);
      }
    });
}

async function latestState(run: string): Promise<Record<string, unknown>> {
  try {
    const names = (await readdir(join(run, 'checkpoints'))).filter((n) => n.startsWith('iter-')).sort();
    const last = names[names.length - 1];
    if (!last) return {};
    return JSON.parse(await readFile(join(run, 'checkpoints', last, 'state.json'), 'utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    return {};
  }
}

interface TraceJson {
  prompt: string;
  target: { valence: number; arousal: number };
  rounds: {
    round: number;
    prompt: string;
    critique: { analysis: string } | null;
    candidates: { index: number; file: string | null; scorer: { distance?: number } }[];
  }[];
  best: {
    round: number;
    index: number;
    file: string | null;
    judged: { valenceError: number; arousalError: number } | null;
  } | null;
}

export function registerReport(program: Command, io: CliIo): void {
  program
    .command('report')
    .description(
      'one self-contained HTML report of a train run: grids before/after, curves, feedback trace, configuration',
    )
    .requiredOption('--run <dir>', 'a train run folder')
    .requiredOption('--out <file.html>', 'where to write the report')
    .option('--checkpoint <dir>', 'the base checkpoint the run trained (default: the shipped generator)')
    .option('--trace <trace.json>', "a refine trace written by 'emofeedback refine --out'")
    .option('--prompts <n>', 'held-out prompts shown as 5×5 grids', '2')
    .action(async (flags: ReportFlags) => {
      const promptCount = intFlag('prompts', flags.prompts, 2, 1, DEFAULT_HELD_OUT_PROMPTS.length);
      const metrics = await readMetrics(join(flags.run, 'metrics.jsonl'));
      const generator = await generatorFromFlags(flags.checkpoint, join(flags.run, 'lora'));
      const grid = emotionGrid();
      const grids: ReportData['grids'][number][] = [];
      try {
        for (const prompt of DEFAULT_HELD_OUT_PROMPTS.slice(0, promptCount)) {
          const request = {
            prompts: grid.map(() => prompt),
            emotions: grid,
            seeds: grid.map((_, i) => 1000 + i),
          };
          const after = await generator.generate(request);
          generator.setAdaptersEnabled(false);
          const before = await generator.generate(request).finally(() => generator.setAdaptersEnabled(true));
          grids.push({
            prompt,
            before: imageGrid(before, { columns: 5, scale: 2 }),
            after: imageGrid(after, { columns: 5, scale: 2 }),
          });
        }
      } finally {
        generator.dispose();
      }
      /** A numeric field of the metric lines of one type; a dotted key reads nested objects. */
      const series = (type: string, key: string, name: string): ReportSeries => ({
        name,
        points: metrics
          .filter((m) => m.type === type)
          .map((m) => [m.iteration as number, field(m, key)] as const)
          .filter((p): p is readonly [number, number] => typeof p[1] === 'number' && Number.isFinite(p[1])),
      });
      const componentNames = [
        ...new Set(
          metrics
            .filter((m) => m.type === 'iteration')
            .flatMap((m) => Object.keys((m.components as object) ?? {})),
        ),
      ];
      const componentSeries = componentNames.map((c) => ({
        name: c,
        points: metrics
          .filter((m) => m.type === 'iteration')
          .map((m) => [m.iteration as number, (m.components as Record<string, number>)[c] as number] as const)
          .filter((p) => Number.isFinite(p[1])),
      }));
      const curves: ReportData['curves'][number][] = [
        {
          title: 'Reward',
          yLabel: 'mean reward',
          series: [series('iteration', 'rewardMean', 'total'), ...componentSeries],
        },
        {
          title: 'Judged error on held-out prompts',
          yLabel: 'mean abs. error',
          series: [
            series('evaluation', 'valenceError', 'V-Error'),
            series('evaluation', 'arousalError', 'A-Error'),
          ],
        },
        {
          title: 'Judged agreement with the targets (1 = the reading follows the target in full)',
          yLabel: 'Spearman ρ, slope',
          series: [
            series('evaluation', 'valence.spearman.value', 'valence ρ'),
            series('evaluation', 'arousal.spearman.value', 'arousal ρ'),
            series('evaluation', 'valence.slope.value', 'valence slope'),
            series('evaluation', 'arousal.slope.value', 'arousal slope'),
          ],
        },
        {
          title: 'Policy drift',
          yLabel: 'approx. KL',
          series: [
            series('iteration', 'approxKl', 'approx KL'),
            series('iteration', 'klLoss', 'KL to reference'),
          ],
        },
      ];
      let trace: ReportData['trace'];
      if (flags.trace) {
        const t = JSON.parse(await readFile(flags.trace, 'utf8')) as TraceJson;
        const dir = dirname(flags.trace);
        const load = async (file: string | null) => (file ? readImage(join(dir, file)) : null);
        const rounds = [];
        for (const r of t.rounds) {
          const images = [];
          for (const c of r.candidates) {
            const image = await load(c.file);
            if (image)
              images.push({
                caption: `#${c.index} d=${(c.scorer.distance ?? Number.NaN).toFixed(2)}`,
                image,
              });
          }
          rounds.push({ round: r.round, prompt: r.prompt, analysis: r.critique?.analysis, images });
        }
        const bestImage = t.best ? await load(t.best.file) : null;
        trace = {
          prompt: t.prompt,
          target: t.target,
          rounds,
          best:
            bestImage && t.best
              ? {
                  image: bestImage,
                  caption: `round ${t.best.round}, image ${t.best.index}${t.best.judged ? `; judged errors V ${t.best.judged.valenceError.toFixed(2)}, A ${t.best.judged.arousalError.toFixed(2)}` : ''}`,
                }
              : undefined,
        };
      }
      const html = renderReport({
        title: `EmoFeedback² run: ${flags.run}`,
        grids,
        curves,
        trace,
        config: {
          run: flags.run,
          ...(await latestState(flags.run)),
          iterationsLogged: metrics.filter((m) => m.type === 'iteration').length,
        },
      });
      const tmp = `${flags.out}.tmp-${process.pid}`;
      await writeFile(tmp, html);
      await rename(tmp, flags.out);
      io.stdout(`wrote ${flags.out} (${(html.length / 1024).toFixed(0)} KB)\n`);
    });
}

function field(line: Record<string, unknown>, key: string): unknown {
  let value: unknown = line;
  for (const part of key.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
