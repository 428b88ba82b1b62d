import { runCli } from './cli/program.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`emofeedback: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
