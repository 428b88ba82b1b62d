import { InvalidArgumentError } from '../errors.js';

/**
 * The sampling grid from t = 1 (noise) to t = 0 (image): `steps + 1` decreasing times.
 * `shift` > 1 spends more steps near the noise end, as SD3's scheduler does:
 * t' = shift·t / (1 + (shift − 1)·t) applied to the uniform grid.
 * @throws InvalidArgumentError for a non-integer step count below 1 or a non-positive shift.
 */
export function timestepGrid(steps: number, shift = 1): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > 1000) {
    throw new InvalidArgumentError('steps', `expected an integer in [1, 1000], got ${String(steps)}.`);
  }
  if (!(typeof shift === 'number' && Number.isFinite(shift) && shift > 0)) {
    throw new InvalidArgumentError('shift', `expected a positive number, got ${String(shift)}.`);
  }
  const grid: number[] = [];
  for (let i = 0; i <= steps; i++) {
    const t = 1 - i / steps;
    grid.push((shift * t) / (1 + (shift - 1) * t));
  }
  grid[steps] = 0;
  return grid;
}
