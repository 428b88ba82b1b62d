import { EmoFeedbackError } from '@emofeedback/core';
import { CommanderError } from 'commander';

/** Where the command line writes; tests pass buffers, the binary passes the process streams. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress bars are drawn only there). */
  readonly interactive: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export const processIo = (): CliIo => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  interactive: Boolean(process.stderr.isTTY),
  env: process.env,
});

/** Exit codes: 0 success, 1 a failure while working, 2 bad input (flags, files, values). */
export const EXIT = { ok: 0, failure: 1, badInput: 2 } as const;

const BAD_INPUT_CODES = new Set([
  'INVALID_EMOTION',
  'UNKNOWN_SCALE',
  'INVALID_ARGUMENT',
  'INVALID_IMAGE',
  'UNKNOWN_DEVICE',
  'NOT_FOUND',
  'CHECKPOINT',
]);

/** A bad flag value or combination found by a command itself. */
export class CliUsageError extends Error {}

/** Maps an error to its exit code and the one line printed on stderr. */
export function describeFailure(error: unknown): { code: number; line: string } {
  if (error instanceof CommanderError) {
    return { code: EXIT.badInput, line: error.message.replace(/^error: /, '') };
  }
  if (error instanceof CliUsageError) return { code: EXIT.badInput, line: error.message };
  if (error instanceof EmoFeedbackError) {
    return { code: BAD_INPUT_CODES.has(error.code) ? EXIT.badInput : EXIT.failure, line: error.message };
  }
  const e = error as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT')
    return { code: EXIT.badInput, line: `${e.path ?? 'file'}: no such file or directory` };
  return { code: EXIT.failure, line: (e as Error)?.message ?? String(error) };
}

/** Parses a number flag. */
export function numberFlag(name: string, raw: string | undefined, fallback?: number): number {
  if (raw === undefined) {
    if (fallback === undefined) throw new CliUsageError(`--${name} is required`);
    return fallback;
  }
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value))
    throw new CliUsageError(`--${name} must be a number, got '${raw}'`);
  return value;
}

/** Parses an integer flag within bounds. */
export function intFlag(
  name: string,
  raw: string | undefined,
  fallback: number,
  min = 0,
  max = 2 ** 31 - 1,
): number {
  const value = numberFlag(name, raw, fallback);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CliUsageError(`--${name} must be an integer in [${min}, ${max}], got '${raw}'`);
  }
  return value;
}
