import { SingleBar } from 'cli-progress';
import type { CliIo } from './io.js';

/** A progress bar on stderr when it is a terminal; silent otherwise (logs, `--json`, tests). */
export interface Progress {
  start(total: number, label: string): void;
  update(done: number): void;
  stop(): void;
}

export function createProgress(io: CliIo, enabled: boolean): Progress {
  if (!enabled || !io.interactive) return { start() {}, update() {}, stop() {} };
  const bar = new SingleBar({
    format: '{label} [{bar}] {value}/{total} {duration_formatted}',
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: false,
  });
  return {
    start: (total, label) => bar.start(total, 0, { label }),
    update: (done) => bar.update(done),
    stop: () => bar.stop(),
  };
}
