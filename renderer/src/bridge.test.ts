import { describe, expect, it, vi } from 'vitest';
import { createGateClient } from '../../electron/shared/gate-client.js';
import { createHttpTransport } from './bridge.js';

/** Records what the bridge sends; answers like the admin endpoint. */
function fakeFetch(answer: (url: string, body: string) => Response) {
  const sent: Array<{ url: string; init: RequestInit }> = [];
  const impl = (async (url: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: String(url), init: init ?? {} });
    return answer(String(url), String(init?.body ?? ''));
  }) as typeof fetch;
  return { impl, sent };
}

class FakeEventSource {
  static opened: FakeEventSource[] = [];
  readonly listeners = new Map<string, Array<(event: MessageEvent<string>) => void>>();
  closed = false;
  constructor(
    readonly url: string,
    readonly init?: EventSourceInit,
  ) {
    FakeEventSource.opened.push(this);
  }
  addEventListener(name: string, listener: (event: MessageEvent<string>) => void) {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener]);
  }
  close() {
    this.closed = true;
  }
  fire(name: string, data: string) {
    for (const listener of this.listeners.get(name) ?? []) listener({ data } as MessageEvent<string>);
  }
}

const json = (value: unknown, status = 200) => new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });

describe('the browser bridge', () => {
  it('calls each method as POST /gate/<method> with a JSON body, and returns the GateResult as it came', async () => {
    const fetch = fakeFetch(() => json({ ok: true, value: [] }));
    const gate = createGateClient(
      createHttpTransport({ base: 'http://127.0.0.1:8001', fetch: fetch.impl, EventSource: FakeEventSource as unknown as typeof EventSource }),
    );
    expect(await gate.keys.list()).toEqual({ ok: true, value: [] });
    await gate.keys.setEnabled({ id: 'k1', enabled: false });
    expect(fetch.sent.map((s) => [s.url, s.init.method, s.init.body])).toEqual([
      ['http://127.0.0.1:8001/gate/keys.list', 'POST', ''],
      ['http://127.0.0.1:8001/gate/keys.setEnabled', 'POST', '{"id":"k1","enabled":false}'],
    ]);
    expect(fetch.sent[0]!.init.headers).toEqual({ 'content-type': 'application/json' });
    expect(fetch.sent[0]!.init.credentials).toBe('same-origin');
  });

  it('passes an error result through, and turns a refusal without JSON into one', async () => {
    const error = { ok: false, error: { code: 'unknown_method', message: 'no method "x"' } };
    const fetch = fakeFetch((url) => (url.includes('keys') ? json(error, 404) : new Response('open the URL with the token', { status: 401 })));
    const gate = createGateClient(createHttpTransport({ fetch: fetch.impl, EventSource: FakeEventSource as unknown as typeof EventSource }));
    expect(await gate.keys.list()).toEqual(error);
    expect(await gate.app.info()).toEqual({ ok: false, error: { code: 'forbidden', message: 'open the URL with the token' } });
  });

  it('resolves a network failure as an internal error, never a rejection', async () => {
    const failing = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    const gate = createGateClient(createHttpTransport({ fetch: failing, EventSource: FakeEventSource as unknown as typeof EventSource }));
    expect(await gate.proxy.status()).toEqual({ ok: false, error: { code: 'internal', message: 'no connection to the gate (Failed to fetch)' } });
  });

  it('shares one EventSource among listeners, parses events, and closes it after the last one leaves', () => {
    FakeEventSource.opened = [];
    const gate = createGateClient(
      createHttpTransport({ fetch: fakeFetch(() => json(null)).impl, EventSource: FakeEventSource as unknown as typeof EventSource }),
    );
    const keys: unknown[] = [];
    const logs: unknown[] = [];
    const stopKeys = gate.on('keys', (payload) => keys.push(payload));
    const stopLogs = gate.on('logs', (payload) => logs.push(payload));
    const stopLogsAgain = gate.on('logs', () => {});
    expect(FakeEventSource.opened).toHaveLength(1);
    const source = FakeEventSource.opened[0]!;
    expect(source.url).toBe('/gate/events');
    expect(source.init).toEqual({ withCredentials: true });
    source.fire('keys', '[{"id":"k1"}]');
    source.fire('logs', '[]');
    source.fire('logs', 'not json');
    expect(keys).toEqual([[{ id: 'k1' }]]);
    expect(logs).toEqual([[]]);
    stopKeys();
    source.fire('keys', '[]');
    expect(keys).toHaveLength(1);
    stopLogs();
    expect(source.closed).toBe(false);
    stopLogsAgain();
    expect(source.closed).toBe(true);
    // A later listener opens a new one.
    gate.on('status', () => {});
    expect(FakeEventSource.opened).toHaveLength(2);
  });
});

describe('the browser bridge when the gate goes away', () => {
  /** An admin that can be up, down (connection refused) or up with a new token (401), as the test says. */
  function gateProcess() {
    let mode: 'up' | 'down' | 'new-token' = 'up';
    const fetch = fakeFetch(() => {
      if (mode === 'down') throw new TypeError('Failed to fetch');
      if (mode === 'new-token') return json({ ok: false, error: { code: 'forbidden', message: 'the admin token is missing or wrong' } }, 401);
      return json({ ok: true, value: [] });
    });
    FakeEventSource.opened = [];
    const transport = createHttpTransport({ fetch: fetch.impl, EventSource: FakeEventSource as unknown as typeof EventSource, backoffMs: [5] });
    const gate = createGateClient(transport);
    return {
      gate,
      connection: transport.connection,
      fetch,
      set: (next: typeof mode) => void (mode = next),
      latest: () => FakeEventSource.opened.at(-1)!,
    };
  }

  it('an event stream that fails means reconnecting; once the gate answers, a new stream opens and, when open, it is connected again', async () => {
    const p = gateProcess();
    const keys: unknown[] = [];
    p.gate.on('keys', (payload) => keys.push(payload));
    const first = p.latest();
    p.set('down');
    first.fire('error', '');
    expect(first.closed).toBe(true);
    expect(p.connection.current()).toMatchObject({ state: 'reconnecting', epoch: 0, attempt: 1 });
    // A listener added meanwhile opens nothing: the attempt that succeeds will.
    p.gate.on('status', () => {});
    expect(FakeEventSource.opened).toHaveLength(1);
    await vi.waitFor(() => {
      const now = p.connection.current();
      expect(now.state === 'reconnecting' && now.attempt).toBeGreaterThanOrEqual(3);
    });
    expect(FakeEventSource.opened).toHaveLength(1);

    p.set('up');
    await vi.waitFor(() => expect(FakeEventSource.opened).toHaveLength(2));
    const second = p.latest();
    // Probed with a real method call first: it tells a refused token from a gate that is down.
    expect(p.fetch.sent.at(-1)!.url).toBe('/gate/app.info');
    expect(p.connection.current().state).toBe('reconnecting');
    second.fire('open', '');
    await vi.waitFor(() => expect(p.connection.current()).toEqual({ state: 'connected', epoch: 1 }));
    second.fire('keys', '["after"]');
    first.fire('keys', '["stale"]');
    expect(keys).toEqual([['after']]);
  });

  it('a call that cannot connect is a lost connection too', async () => {
    const p = gateProcess();
    p.gate.on('keys', () => {});
    p.set('down');
    expect(await p.gate.keys.list()).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(p.connection.current().state).toBe('reconnecting');
    expect(p.latest().closed).toBe(true);
  });

  it('a gate that restarted with a new token refuses the page: refused, no endless retries, and retry() once the link was opened again', async () => {
    const p = gateProcess();
    p.gate.on('keys', () => {});
    p.set('new-token');
    p.latest().fire('error', '');
    await vi.waitFor(() => expect(p.connection.current()).toEqual({ state: 'refused', epoch: 0 }));
    const calls = p.fetch.sent.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(p.fetch.sent.length).toBe(calls);

    p.set('up');
    p.connection.retry();
    await vi.waitFor(() => expect(FakeEventSource.opened).toHaveLength(2));
    p.latest().fire('open', '');
    await vi.waitFor(() => expect(p.connection.current()).toEqual({ state: 'connected', epoch: 1 }));
  });

  it('a method refused with 401 while the stream still looks fine is refused at once', async () => {
    const p = gateProcess();
    p.set('new-token');
    expect(await p.gate.keys.list()).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(p.connection.current().state).toBe('refused');
  });
});
