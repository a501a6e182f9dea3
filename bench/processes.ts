/** Child processes the bench starts (and always stops), and what /proc says about them. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';

interface Tracked {
  name: string;
  child: ChildProcess;
}

/**
 * Every process started through here is ended when the bench ends, however it ends: normally
 * (stop / stopAll), on an error, or on Ctrl-C.
 */
export class Children {
  private readonly tracked = new Set<Tracked>();

  constructor() {
    // 'exit' handlers run synchronously: a signal is all that can still be sent.
    process.on('exit', () => this.killAllNow());
  }

  /** Starts a process with stdout and stderr appended to `logFile`. */
  spawn(name: string, command: string, args: string[], logFile: string, options: { ipc?: boolean; cwd?: string } = {}): ChildProcess {
    const log = openSync(logFile, 'a');
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: ['ignore', log, log, ...(options.ipc ? (['ipc'] as const) : [])],
    });
    closeSync(log);
    const entry = { name, child };
    this.tracked.add(entry);
    child.once('exit', () => this.tracked.delete(entry));
    return entry.child;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(child: ChildProcess, graceMs = 5_000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.tracked].map(({ child }) => this.stop(child)));
  }

  /** The live children and their own children (nginx's worker), for accounting CPU. */
  pids(): number[] {
    const roots = [...this.tracked].flatMap(({ child }) => (child.pid && child.exitCode === null ? [child.pid] : []));
    return [...roots, ...roots.flatMap((pid) => childPids(pid))];
  }

  killAllNow(): void {
    for (const { child } of this.tracked) {
      // SIGTERM, not SIGKILL: nginx's master passes it on to its worker, a SIGKILLed master would not.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
  }

  /** Rejects as soon as the child exits, for racing against a readiness wait. */
  static died(name: string, child: ChildProcess): Promise<never> {
    const death = new Promise<never>((_, reject) => {
      child.once('exit', (code, signal) => reject(new Error(`${name} exited early (${signal ?? `code ${code}`}); see its log`)));
    });
    death.catch(() => {}); // a later, expected exit is no unhandled rejection once the race is over
    return death;
  }
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once `url` answers at all (any status), retrying every 50 ms. */
export async function waitForHttp(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms: ${(error as Error).message}`);
      await sleep(50);
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// /proc
// ---------------------------------------------------------------------------------------------

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Resident set size in bytes (VmRSS); 0 once the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** RssAnon and RssFile (the mapped node binary and libraries) in bytes. */
export function rssParts(pid: number): { anon: number; file: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { anon: kb('RssAnon'), file: kb('RssFile') };
  } catch {
    return { anon: 0, file: 0 };
  }
}

/** Busy and total CPU seconds of the whole machine, from the `cpu` line of /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const cpuLine = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = cpuLine.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / CLOCK_TICKS, total: (busy + idle + iowait) / CLOCK_TICKS };
}

/** Fields of /proc/PID/stat after the command name, so index 0 is field 3 (state). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** User plus system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // fields 14 (utime) and 15 (stime)
}

export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(statFields(Number(entry))[1]) === pid) children.push(Number(entry)); // field 4: ppid
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/** Samples the summed RSS of some processes every `everyMs` and keeps the peak. */
export class RssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: number[],
    everyMs = 50,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  private sample(): void {
    let total = 0;
    for (const pid of this.pids) total += rssBytes(pid);
    this.peak = Math.max(this.peak, total);
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/**
 * How busy *other* processes keep the machine: all CPU time on /proc/stat minus what the bench's
 * own processes used. On a shared 2-core machine that is the main source of noise.
 */
export class ForeignLoad {
  constructor(private readonly ours: () => number) {}

  /** Starts a window; the returned function gives the cores others kept busy on average since. */
  start(): () => number {
    const machine = machineCpu().busy;
    const ours = this.ours();
    const wall = performance.now();
    return () => {
      const seconds = (performance.now() - wall) / 1000;
      return seconds > 0 ? Math.max(0, (machineCpu().busy - machine - (this.ours() - ours)) / seconds) : 0;
    };
  }

  /** Waits (up to `maxMs`) for a 500 ms window in which others used less than `cores`; returns the last reading. */
  async waitQuiet(cores: number, maxMs: number): Promise<number> {
    const deadline = performance.now() + maxMs;
    for (;;) {
      const since = this.start();
      await sleep(500);
      const busy = since();
      if (busy < cores || performance.now() > deadline) return busy;
    }
  }
}
