import { beforeAll, describe, expect, it, vi } from 'vitest';
import { GATE_METHODS, type GateApi } from '../shared/contract.js';

const electron = vi.hoisted(() => {
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
  return {
    listeners,
    contextBridge: { exposeInMainWorld: vi.fn() },
    ipcRenderer: {
      invoke: vi.fn(async (..._args: unknown[]) => ({ ok: true, value: 'answer' })),
      on: vi.fn((channel: string, listener: (...args: unknown[]) => void) => {
        if (!listeners.has(channel)) listeners.set(channel, new Set());
        listeners.get(channel)!.add(listener);
      }),
      removeListener: vi.fn((channel: string, listener: (...args: unknown[]) => void) => listeners.get(channel)?.delete(listener)),
    },
  };
});
vi.mock('electron', () => ({ default: electron, ...electron }));

describe('the preload', () => {
  let gate: GateApi;
  beforeAll(async () => {
    await import('./index.js');
    expect(electron.contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
    const [name, api] = electron.contextBridge.exposeInMainWorld.mock.calls[0]!;
    expect(name).toBe('gate');
    gate = api as GateApi;
  });

  it('exposes one function per method, grouped by namespace, and nothing of ipcRenderer', () => {
    const exposed = Object.entries(gate).flatMap(([namespace, value]) =>
      typeof value === 'function' ? [namespace] : Object.keys(value as object).map((action) => `${namespace}.${action}`),
    );
    expect(exposed.sort()).toEqual([...GATE_METHODS, 'on'].sort());
    expect(JSON.stringify(Object.keys(gate))).not.toContain('ipc');
  });

  it('invokes each method on its channel with its request, and returns the result', async () => {
    expect(await gate.keys.list()).toEqual({ ok: true, value: 'answer' });
    expect(electron.ipcRenderer.invoke).toHaveBeenLastCalledWith('gate:keys.list');
    await gate.keys.setEnabled({ id: 'k1', enabled: false });
    expect(electron.ipcRenderer.invoke).toHaveBeenLastCalledWith('gate:keys.setEnabled', { id: 'k1', enabled: false });
    await gate.logs.recent({ after: 5 });
    expect(electron.ipcRenderer.invoke).toHaveBeenLastCalledWith('gate:logs.recent', { after: 5 });
  });

  it('turns a failed invoke into an internal error result instead of a rejection', async () => {
    electron.ipcRenderer.invoke.mockRejectedValueOnce(new Error("No handler registered for 'gate:app.info'"));
    expect(await gate.app.info()).toEqual({ ok: false, error: { code: 'internal', message: "No handler registered for 'gate:app.info'" } });
  });

  it('delivers event payloads without the IPC event, and unsubscribes', () => {
    const batches: unknown[] = [];
    const stop = gate.on('logs', (batch) => batches.push(batch));
    const [listener] = electron.listeners.get('gate:event:logs')!;
    listener!({ sender: 'ipc internals' }, [{ seq: 1 }]);
    expect(batches).toEqual([[{ seq: 1 }]]);
    stop();
    expect(electron.listeners.get('gate:event:logs')!.size).toBe(0);
  });

  it('refuses unknown events rather than listening on an arbitrary channel', () => {
    expect(() => (gate.on as (event: string, listener: () => void) => void)('../../secret', () => {})).toThrow('unknown gate event');
    expect(electron.ipcRenderer.on).not.toHaveBeenCalledWith(expect.stringContaining('secret'), expect.anything());
  });
});
