/** Axis scaling shared by the window's small SVG charts. */

/** The smallest 1, 2 or 5 × 10ⁿ at or above `value`. */
export function niceStep(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5]) {
    if (step * magnitude >= value * (1 - 1e-9)) return step * magnitude;
  }
  return 10 * magnitude;
}

/**
 * Axis labels from 0 to a round number at or above `max`, in about `target` round steps; counts
 * (`integer`) never get fractional steps.
 */
export function axisTicks(max: number, { target = 4, integer = false }: { target?: number; integer?: boolean } = {}): number[] {
  let step = niceStep(Math.max(max, 0) / target);
  if (integer) step = Math.max(1, step);
  const top = Math.max(step, Math.ceil(max / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let i = 0; i * step <= top * (1 + 1e-9); i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}
