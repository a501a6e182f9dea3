/** Reads a V8 .cpuprofile (node --cpu-prof) and ranks functions by self and inclusive time. */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export type Category = 'gate' | 'node' | 'gc' | 'v8' | 'idle' | string;

export interface FunctionCost {
  name: string;
  location: string;
  category: Category;
  selfMs: number;
  totalMs: number;
}

export interface ProfileSummary {
  /** sampled time that was not idle */
  busyMs: number;
  byCategory: Array<{ category: Category; selfMs: number }>;
  functions: FunctionCost[];
}

export function categorize(frame: CallFrame, root: string): Category {
  const { url, functionName } = frame;
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'gc';
  if (url === '' && functionName.startsWith('(')) return 'v8';
  if (url.startsWith('node:')) return 'node';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.includes(`${root}/dist/`)) return 'gate';
  return url === '' ? 'native' : 'other';
}

export function summarizeProfile(file: string, root: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const keyOf = (f: CallFrame) => `${f.functionName || '(anonymous)'}|${f.url}|${f.lineNumber}`;
  const costs = new Map<string, FunctionCost>();
  const costOf = (frame: CallFrame): FunctionCost => {
    const key = keyOf(frame);
    let cost = costs.get(key);
    if (!cost) {
      const where = frame.url.replace(`file://${root}/`, '').replace(/^file:\/\//, '');
      cost = {
        name: frame.functionName || '(anonymous)',
        location: where ? `${where}:${frame.lineNumber + 1}` : '',
        category: categorize(frame, root),
        selfMs: 0,
        totalMs: 0,
      };
      costs.set(key, cost);
    }
    return cost;
  };

  // The time of sample i is the gap to the next sample.
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const leaf = byId.get(profile.samples[i] ?? -1);
    if (!leaf) continue;
    costOf(leaf.callFrame).selfMs += ms;
    const seen = new Set<FunctionCost>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (!frame || frame.functionName === '(root)') continue;
      const cost = costOf(frame);
      if (!seen.has(cost)) {
        seen.add(cost);
        cost.totalMs += ms;
      }
    }
  }

  const functions = [...costs.values()].filter((c) => c.category !== 'idle');
  const categories = new Map<Category, number>();
  for (const c of functions) categories.set(c.category, (categories.get(c.category) ?? 0) + c.selfMs);
  const busyMs = [...categories.values()].reduce((a, b) => a + b, 0);
  return {
    busyMs,
    byCategory: [...categories.entries()].map(([category, selfMs]) => ({ category, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
    functions,
  };
}

/** A plain-text report: where the time goes by category, then the top functions of each kind. */
export function formatProfile(summary: ProfileSummary, top = 12): string {
  const pct = (ms: number) => `${((100 * ms) / summary.busyMs).toFixed(1).padStart(5)}%`;
  const row = (c: FunctionCost, by: 'selfMs' | 'totalMs') => `  ${pct(c[by])}  ${c.name.padEnd(34)} ${c.location}`;
  const topBy = (filter: (c: FunctionCost) => boolean, by: 'selfMs' | 'totalMs', n = top) =>
    summary.functions
      .filter(filter)
      .sort((a, b) => b[by] - a[by])
      .slice(0, n)
      .map((c) => row(c, by));
  return [
    `Busy (non-idle) sampled time: ${(summary.busyMs / 1000).toFixed(2)} s`,
    '',
    'Self time by category:',
    ...summary.byCategory.slice(0, 12).map((c) => `  ${pct(c.selfMs)}  ${c.category}`),
    '',
    'Top self time, all code:',
    ...topBy(() => true, 'selfMs'),
    '',
    "Top self time, the gate's own code (dist/):",
    ...topBy((c) => c.category === 'gate', 'selfMs'),
    '',
    "Top inclusive time, the gate's own code (dist/):",
    ...topBy((c) => c.category === 'gate', 'totalMs'),
    '',
    'Top self time, node internals (node:*):',
    ...topBy((c) => c.category === 'node', 'selfMs'),
    '',
    'Top self time, other packages:',
    ...topBy((c) => !['gate', 'node', 'gc', 'v8', 'native', 'other'].includes(c.category), 'selfMs', 8),
  ].join('\n');
}
