import { DEFAULT_BACKEND_NAME, type UsageRow } from '../../../../electron/shared/contract.js';
import { axisTicks } from '../../lib/chart.js';

export type UsageMetric = 'requests' | 'tokens';

/** How many distinct series colours the stylesheet has (`.series-0` …). */
const SERIES_COLORS = 8;

export function metricOf(row: Pick<UsageRow, 'requests' | 'promptTokens' | 'completionTokens'>, metric: UsageMetric): number {
  return metric === 'requests' ? row.requests : row.promptTokens + row.completionTokens;
}

/** The `count` UTC days up to and including the one `until` falls on, oldest first. */
export function usageDays(until: number, count: number): string[] {
  const last = Date.UTC(new Date(until).getUTCFullYear(), new Date(until).getUTCMonth(), new Date(until).getUTCDate());
  return Array.from({ length: count }, (_, i) => new Date(last - (count - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}

export type KeyTotals = Omit<UsageRow, 'day'>;

/** Each key's totals over the rows, busiest first. */
export function totalsByKey(rows: readonly UsageRow[]): KeyTotals[] {
  const totals = new Map<string, KeyTotals>();
  for (const row of rows) {
    const sum = totals.get(row.keyId) ?? {
      keyId: row.keyId,
      user: row.user,
      requests: 0,
      errors: 0,
      promptTokens: 0,
      completionTokens: 0,
      bytesIn: 0,
      bytesOut: 0,
      durationMs: 0,
      backends: {},
    };
    sum.user = row.user;
    sum.requests += row.requests;
    sum.errors += row.errors;
    sum.promptTokens += row.promptTokens;
    sum.completionTokens += row.completionTokens;
    sum.bytesIn += row.bytesIn;
    sum.bytesOut += row.bytesOut;
    sum.durationMs += row.durationMs;
    // (a row from a gate older than several backends has none)
    for (const [name, requests] of Object.entries(row.backends ?? {})) sum.backends[name] = (sum.backends[name] ?? 0) + requests;
    totals.set(row.keyId, sum);
  }
  return [...totals.values()].sort((a, b) => b.requests - a.requests || a.user.localeCompare(b.user));
}

/**
 * The backends that answered any of the rows' requests, with how many each: the default first,
 * then the busiest. A breakdown is worth showing only when this names more than one.
 */
export function backendTotals(rows: ReadonlyArray<Pick<UsageRow, 'backends'>>): Array<{ name: string; requests: number }> {
  const totals = new Map<string, number>();
  for (const row of rows)
    for (const [name, requests] of Object.entries(row.backends ?? {})) if (requests > 0) totals.set(name, (totals.get(name) ?? 0) + requests);
  return [...totals.entries()]
    .map(([name, requests]) => ({ name, requests }))
    .sort(
      (a, b) => Number(b.name === DEFAULT_BACKEND_NAME) - Number(a.name === DEFAULT_BACKEND_NAME) || b.requests - a.requests || a.name.localeCompare(b.name),
    );
}

export interface UsageChart {
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  bars: Array<{
    day: string;
    x: number;
    width: number;
    total: number;
    /** stacked bottom to top in series order */
    segments: Array<{ keyId: string; series: number; value: number; y: number; height: number }>;
  }>;
  ticks: Array<{ value: number; y: number }>;
  /** the days labelled under the axis (not all fit) */
  labels: Array<{ day: string; x: number }>;
}

/**
 * Bars per day, stacked by key, as SVG coordinates. `series` fixes each key's colour and stacking
 * order (the legend's order), so a key keeps its colour whatever the range.
 */
export function usageChart(
  rows: readonly UsageRow[],
  {
    days,
    metric,
    series,
    width = 640,
    height = 200,
  }: { days: readonly string[]; metric: UsageMetric; series: readonly string[]; width?: number; height?: number },
): UsageChart {
  const plot = { left: 48, top: 8, right: width - 8, bottom: height - 22 };
  const byDay = new Map<string, Map<string, number>>();
  for (const row of rows) {
    const day = byDay.get(row.day) ?? new Map<string, number>();
    day.set(row.keyId, (day.get(row.keyId) ?? 0) + metricOf(row, metric));
    byDay.set(row.day, day);
  }
  const totals = days.map((day) => [...(byDay.get(day)?.values() ?? [])].reduce((a, b) => a + b, 0));
  const values = axisTicks(Math.max(0, ...totals), { integer: true });
  const top = values.at(-1)!;
  const scale = (value: number) => (value / top) * (plot.bottom - plot.top);
  const slot = (plot.right - plot.left) / Math.max(1, days.length);
  const barWidth = Math.max(1, Math.min(40, slot * 0.7));
  const order = new Map(series.map((keyId, index) => [keyId, index]));

  const bars = days.map((day, index) => {
    const x = round(plot.left + slot * index + (slot - barWidth) / 2);
    let base = plot.bottom;
    const entries = [...(byDay.get(day) ?? new Map<string, number>()).entries()]
      .filter(([, value]) => value > 0)
      .sort(([a], [b]) => (order.get(a) ?? Number.MAX_SAFE_INTEGER) - (order.get(b) ?? Number.MAX_SAFE_INTEGER));
    const segments = entries.map(([keyId, value]) => {
      const h = scale(value);
      base -= h;
      return { keyId, series: (order.get(keyId) ?? 0) % SERIES_COLORS, value, y: round(base), height: round(h) };
    });
    return { day, x, width: round(barWidth), total: totals[index]!, segments };
  });

  const every = Math.max(1, Math.ceil(days.length / Math.max(1, Math.floor((plot.right - plot.left) / 64))));
  const labels = days
    .map((day, index) => ({ day, index }))
    .filter(({ index }) => (days.length - 1 - index) % every === 0)
    .map(({ day, index }) => ({ day, x: round(plot.left + slot * index + slot / 2) }));

  return { width, height, plot, bars, ticks: values.map((value) => ({ value, y: round(plot.bottom - scale(value)) })), labels };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
