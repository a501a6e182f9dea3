import { describe, expect, it } from 'vitest';
import { type ConnectionState, type ProbeResult, createGateClient, createReconnector } from './gate-client.js';

/** A reconnector on a hand-driven clock, with probe and resume answers the test sets. */
function harness(options: { backoffMs?: number[] } = {}) {
  let now = 1_000;
  const timers: Array<{ at: number; run: () => void; cancelled: boolean }> = [];
  const probes: ProbeResult[] = [];
  const resumes: boolean[] = [];
  let probeAnswer: ProbeResult = 'down';
  let resumeAnswer = true;
  const connection = createReconnector({
    backoffMs: options.backoffMs ?? [100, 200, 400],
    now: () => now,
    setTimer: (run, ms) => {
      const timer = { at: now + ms, run, cancelled: false };
      timers.push(timer);
      return timer;
    },
    clearTimer: (timer) => void ((timer as { cancelled: boolean }).cancelled = true),
    probe: async () => {
      probes.push(probeAnswer);
      return probeAnswer;
    },
    resume: async () => {
      resumes.push(resumeAnswer);
      return resumeAnswer;
    },
  });
  const seen: ConnectionState[] = [];
  connection.subscribe((state) => seen.push(state));
  return {
    connection,
    seen,
    probes,
    resumes,
    answer(probe: ProbeResult, resume = true) {
      probeAnswer = probe;
      resumeAnswer = resume;
    },
    /** moves the clock on, running the timers that fall due, and lets their promises settle */
    async advance(ms: number) {
      now += ms;
      for (const timer of timers.filter((t) => !t.cancelled && t.at <= now)) {
        timer.cancelled = true;
        timer.run();
      }
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
    pending: () => timers.filter((t) => !t.cancelled).length,
  };
}

describe('the connection', () => {
  it('starts connected; a loss retries with growing waits and, once the gate answers and the stream opens, is connected with a new epoch', async () => {
    const h = harness();
    expect(h.connection.current()).toEqual({ state: 'connected', epoch: 0 });
    h.connection.lost('down');
    expect(h.connection.current()).toEqual({ state: 'reconnecting', epoch: 0, attempt: 1, retryAt: 1_100 });
    // More failures meanwhile change nothing: one timer runs.
    h.connection.lost('down');
    expect(h.pending()).toBe(1);

    await h.advance(100);
    expect(h.probes).toEqual(['down']);
    expect(h.connection.current()).toMatchObject({ state: 'reconnecting', attempt: 2, retryAt: 1_300 });
    await h.advance(200);
    expect(h.connection.current()).toMatchObject({ state: 'reconnecting', attempt: 3, retryAt: 1_700 });
    await h.advance(400);
    // The last wait repeats.
    expect(h.connection.current()).toMatchObject({ state: 'reconnecting', attempt: 4, retryAt: 2_100 });

    h.answer('ok');
    await h.advance(400);
    expect(h.resumes).toEqual([true]);
    expect(h.connection.current()).toEqual({ state: 'connected', epoch: 1 });
    expect(h.pending()).toBe(0);
    // The next loss starts from the shortest wait again.
    h.connection.lost('down');
    expect(h.connection.current()).toMatchObject({ state: 'reconnecting', epoch: 1, attempt: 1 });
  });

  it('is not connected until the event stream is open again', async () => {
    const h = harness();
    h.connection.lost('down');
    h.answer('ok', false);
    await h.advance(100);
    expect(h.resumes).toEqual([false]);
    expect(h.connection.current()).toMatchObject({ state: 'reconnecting', attempt: 2 });
    h.answer('ok', true);
    await h.advance(200);
    expect(h.connection.current()).toEqual({ state: 'connected', epoch: 1 });
  });

  it('stops trying when the gate refuses the page, and tries again only when asked', async () => {
    const h = harness();
    h.connection.lost('down');
    h.answer('refused');
    await h.advance(100);
    expect(h.connection.current()).toEqual({ state: 'refused', epoch: 0 });
    expect(h.pending()).toBe(0);
    await h.advance(60_000);
    expect(h.probes).toHaveLength(1);

    // Still refused (the user has not opened the new link yet), then accepted.
    h.connection.retry();
    await h.advance(0);
    expect(h.connection.current().state).toBe('refused');
    h.answer('ok');
    h.connection.retry();
    await h.advance(0);
    expect(h.connection.current()).toEqual({ state: 'connected', epoch: 1 });
    expect(h.seen.map((s) => s.state)).toEqual(['reconnecting', 'refused', 'refused', 'connected']);
  });

  it('a refused call while connected goes straight to refused; retry while connected does nothing', async () => {
    const h = harness();
    h.connection.retry();
    await h.advance(0);
    expect(h.probes).toEqual([]);
    h.connection.lost('refused');
    expect(h.connection.current()).toEqual({ state: 'refused', epoch: 0 });
    expect(h.pending()).toBe(0);
  });

  it('retry() tries at once instead of waiting for the backoff', async () => {
    const h = harness({ backoffMs: [10_000] });
    h.connection.lost('down');
    h.answer('ok');
    h.connection.retry();
    await h.advance(0);
    expect(h.connection.current()).toEqual({ state: 'connected', epoch: 1 });
    expect(h.pending()).toBe(0);
  });
});

describe('the gate client', () => {
  it('turns a transport that rejects into an internal error result, never a rejection', async () => {
    const gate = createGateClient({
      invoke: async () => {
        throw new Error('no connection to the gate');
      },
      subscribe: () => () => {},
    });
    expect(await gate.keys.list()).toEqual({ ok: false, error: { code: 'internal', message: 'no connection to the gate' } });
  });
});
