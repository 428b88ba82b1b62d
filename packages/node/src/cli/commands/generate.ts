import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import type { Command } from 'commander';
import { writePng } from '../../files/images.js';
import { type CliIo, CliUsageError, intFlag } from '../io.js';
import { emotionFromFlags, generatorFromFlags } from './shared.js';

interface GenerateFlags {
  prompt: string;
  valence?: string;
  arousal?: string;
  seed?: string;
  steps?: string;
  guidance?: string;
  checkpoint?: string;
  lora?: string;
  out: string;
  json?: boolean;
}

export function registerGenerate(program: Command, io: CliIo): void {
  program
    .command('generate')
    .description('generate one image for a prompt and a target emotion')
    .requiredOption('--prompt <text>', 'what the image shows')
    .option('--valence <v>', 'target valence in [-3, 3] (unpleasant → pleasant)')
    .option('--arousal <a>', 'target arousal in [-3, 3] (calm → excited)')
    .option('--seed <n>', 'seed of the image', '0')
    .option('--steps <n>', 'sampling steps')
    .option('--guidance <scale>', 'classifier-free guidance scale')
    .option('--checkpoint <dir>', 'a generator checkpoint folder (default: the shipped generator)')
    .option('--lora <dir>', "LoRA adapters from a train run (its 'lora' folder)")
    .requiredOption('--out <file.png>', 'where to write the PNG')
    .option('--json', 'print JSON on stdout')
    .action(async (flags: GenerateFlags) => {
      if (extname(flags.out).toLowerCase() !== '.png')
        throw new CliUsageError(`--out must end in .png, got '${flags.out}'`);
      const target = emotionFromFlags(flags);
      const seed = intFlag('seed', flags.seed, 0);
      const steps = flags.steps === undefined ? undefined : intFlag('steps', flags.steps, 10, 1, 1000);
      const guidanceScale = flags.guidance === undefined ? undefined : Number(flags.guidance);
      if (guidanceScale !== undefined && !(guidanceScale >= 0)) {
        throw new CliUsageError(`--guidance must be a number ≥ 0, got '${flags.guidance}'`);
      }
      const generator = await generatorFromFlags(flags.checkpoint, flags.lora);
      try {
        const started = Date.now();
        const [image] = await generator.generate(
          { prompts: [flags.prompt], emotions: [target], seeds: [seed] },
          { steps, guidanceScale },
        );
        // Write next to the target and rename, so a failure never leaves a partial PNG behind.
        await mkdir(dirname(flags.out), { recursive: true });
        const tmp = `${flags.out}.tmp-${process.pid}`;
        try {
          await writePng(tmp, image!);
          await rename(tmp, flags.out);
        } catch (error) {
          await rm(tmp, { force: true });
          throw error;
        }
        const result = {
          out: flags.out,
          prompt: flags.prompt,
          target,
          seed,
          generator: generator.id,
          width: image!.width,
          height: image!.height,
          ms: Date.now() - started,
        };
        io.stdout(
          flags.json
            ? `${JSON.stringify(result, null, 2)}\n`
            : `wrote ${flags.out} (${image!.width}×${image!.height}, ${result.ms} ms)\n`,
        );
      } finally {
        generator.dispose();
      }
    });
}
