import type { HealthView } from '../../../../electron/shared/contract.js';
import { axisTicks } from '../../lib/chart.js';

export interface LatencyChart {
  width: number;
  height: number;
  /** the plot area inside the axis labels */
  plot: { left: number; top: number; right: number; bottom: number };
  /** SVG polyline `points`, one per unbroken run of answered probes */
  lines: string[];
  /** each answered probe, so a short history still shows */
  points: Array<{ x: number; y: number }>;
  /** x of each probe that failed */
  failures: number[];
  /** horizontal grid lines with their labels (ms) */
  ticks: Array<{ value: number; y: number }>;
}

export interface LatencyChartOptions {
  now: number;
  /** how far back the chart reaches */
  windowMs?: number;
  width?: number;
  height?: number;
}

/** Ollama's probe latency over the last minutes as SVG coordinates; a failed probe breaks the line. */
export function latencyChart(samples: HealthView['latency'], { now, windowMs = 10 * 60_000, width = 480, height = 120 }: LatencyChartOptions): LatencyChart {
  const plot = { left: 44, top: 8, right: width - 8, bottom: height - 20 };
  const start = now - windowMs;
  const recent = samples.filter((sample) => sample.time >= start && sample.time <= now);
  const highest = Math.max(0, ...recent.map((sample) => sample.ms ?? 0));
  const values = axisTicks(highest, { target: 3, integer: true });
  const top = values.at(-1)!;
  const x = (time: number) => round(plot.left + ((time - start) / windowMs) * (plot.right - plot.left));
  const y = (ms: number) => round(plot.bottom - (ms / top) * (plot.bottom - plot.top));

  const lines: string[] = [];
  const points: Array<{ x: number; y: number }> = [];
  const failures: number[] = [];
  let run: string[] = [];
  for (const sample of recent) {
    if (sample.ms === null) {
      failures.push(x(sample.time));
      if (run.length) lines.push(run.join(' '));
      run = [];
    } else {
      points.push({ x: x(sample.time), y: y(sample.ms) });
      run.push(`${x(sample.time)},${y(sample.ms)}`);
    }
  }
  if (run.length) lines.push(run.join(' '));
  return { width, height, plot, lines, points, failures, ticks: values.map((value) => ({ value, y: y(value) })) };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
