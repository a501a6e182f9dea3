/** The results table, the performance targets' verdicts (judged in run.ts), and the machine it ran on. */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** `gate2`: the gate with two backends (see run.ts), compared with `gate` in a table of its own. */
export const TARGETS = ['direct', 'gate', 'gate2', 'node', 'undici', 'nginx'] as const;
export type TargetName = (typeof TARGETS)[number];
export type PerTarget = Partial<Record<TargetName, number>>;

/** How a row compares the gate (or another subject) with direct, the bare node:http and undici proxies, and nginx. */
type Comparison = 'ratio' | 'diff' | 'none';

export interface Row {
  label: string;
  values: PerTarget;
  digits: number;
  compare: Comparison;
  /** shown after a difference (`ms`, `pp`) */
  unit?: string;
  /** cells that are not numbers, such as `1000/1000` */
  text?: Partial<Record<TargetName, string>>;
}

const fmt = (n: number | undefined, digits: number): string =>
  n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function compareCell(row: Row, subject: TargetName, other: TargetName): string {
  const gate = row.values[subject];
  const base = row.values[other];
  if (row.compare === 'none' || gate === undefined || base === undefined || Number.isNaN(gate) || Number.isNaN(base)) return '-';
  const ratio = base === 0 ? '' : `${(gate / base).toFixed(2)}x`;
  if (row.compare === 'ratio') return ratio || '-';
  const diff = gate - base;
  const signed = `${diff >= 0 ? '+' : ''}${diff.toFixed(row.digits)} ${row.unit ?? ''}`.trim();
  return ratio ? `${signed} (${ratio})` : signed;
}

/** A column per target, then one per comparison of `subject` with each of `against` that is among the targets. */
export function renderTable(
  rows: Row[],
  targets: readonly TargetName[],
  subject: TargetName = 'gate',
  against: readonly TargetName[] = ['direct', 'node', 'undici', 'nginx'],
): string {
  const others = against.filter((t) => targets.includes(t));
  const header = ['', ...targets, ...others.map((t) => `${subject} vs ${t}`)];
  const body = rows.map((row) => [
    row.label,
    ...targets.map((t) => row.text?.[t] ?? fmt(row.values[t], row.digits)),
    ...others.map((t) => compareCell(row, subject, t)),
  ]);
  const all = [header, ...body];
  const widths = header.map((_, col) => Math.max(...all.map((r) => (r[col] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, col) => (col === 0 ? c.padEnd(widths[col] ?? 0) : c.padStart(widths[col] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export interface TargetCheck {
  met: boolean | null; // null: could not be judged (no nginx)
  text: string;
}

export function formatChecks(checks: TargetCheck[]): string {
  return checks.map((c) => `${c.met === null ? '[n/a] ' : c.met ? '[met]  ' : '[MISSED]'} ${c.text}`).join('\n');
}

export interface Machine {
  os: string;
  cpu: string;
  cores: number;
  memory: string;
  node: string;
  nginx: string;
}

export function describeMachine(nginx: string): Machine {
  const osRelease = (() => {
    try {
      return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os.type();
    } catch {
      return os.type();
    }
  })();
  const cpu = (() => {
    try {
      return /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
    } catch {
      return os.cpus()[0]?.model ?? 'unknown';
    }
  })();
  return {
    os: `${osRelease}, Linux ${os.release()} ${os.arch()}`,
    cpu,
    cores: os.availableParallelism(),
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    nginx,
  };
}

export function machineLines(m: Machine): string[] {
  return [`OS: ${m.os}`, `CPU: ${m.cpu}, ${m.cores} cores`, `Memory: ${m.memory}`, `Node: ${m.node}`, `nginx: ${m.nginx}`];
}
