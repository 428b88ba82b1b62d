import { Command, CommanderError } from 'commander';
import { readyNode } from '../backends.js';
import { registerEvaluate } from './commands/evaluate.js';
import { registerGenerate } from './commands/generate.js';
import { registerRefine } from './commands/refine.js';
import { registerReport } from './commands/report.js';
import { registerTrain } from './commands/train.js';
import { type CliIo, CliUsageError, describeFailure, EXIT, processIo } from './io.js';

const DEVICES = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

/** Builds the `emofeedback` command line. */
export function createProgram(io: CliIo): Command {
  const program = new Command('emofeedback')
    .description('EmoFeedback²: emotion-controlled image generation with evaluator feedback')
    .version('0.1.0')
    .option('--device <device>', `tensor backend: ${DEVICES.join(', ')}`, 'auto')
    .showHelpAfterError(false)
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} })
    .exitOverride();
  program.hook('preAction', async (root) => {
    const device = root.opts().device as string;
    if (!DEVICES.includes(device))
      throw new CliUsageError(`--device must be one of ${DEVICES.join(', ')}, got '${device}'`);
    await readyNode({ device: device as 'auto' });
  });
  registerGenerate(program, io);
  registerEvaluate(program, io);
  registerRefine(program, io);
  registerTrain(program, io);
  registerReport(program, io);
  for (const command of program.commands) command.exitOverride().configureOutput(program.configureOutput());
  return program;
}

/**
 * Runs the command line on `argv` (without the node and script entries) and resolves with the
 * exit code: 0 success, 1 failure while working, 2 bad input. Errors print one line on stderr.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (
      error instanceof CommanderError &&
      (error.code === 'commander.helpDisplayed' || error.code === 'commander.version')
    ) {
      return EXIT.ok;
    }
    if (error instanceof CommanderError && error.code === 'commander.help') return EXIT.ok;
    const { code, line } = describeFailure(error);
    io.stderr(`emofeedback: ${line}\n`);
    return code;
  }
}
