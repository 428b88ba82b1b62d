// Runs every benchmark under bench/ (or those named on the command line) one after another,
// each in its own process so one's memory does not skew the next. Usage:
//   pnpm bench                 all benchmarks
//   pnpm bench generator grpo  benchmarks whose file name contains one of the words
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => /\.bench\.(ts|mts|mjs)$/.test(f))
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark matches ${filters.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file}`);
  const args = file.endsWith('.mjs') ? [join(here, file)] : ['--import', 'tsx', join(here, file)];
  const result = spawnSync(process.execPath, args, {
    stdio: 'inherit',
    cwd: here,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  if (result.status !== 0) {
    failed++;
    console.error(`${file} exited with ${result.status}`);
  }
}
process.exit(failed ? 1 : 0);
