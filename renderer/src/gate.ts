import { createContext, useContext } from 'react';
import type { GateApi } from '../../electron/shared/contract.js';
import type { GateConnection } from '../../electron/shared/gate-client.js';
import { createBrowserGate } from './bridge.js';

declare global {
  interface Window {
    /** provided by the Electron preload; absent in a browser, where the HTTP bridge stands in */
    gate?: GateApi;
  }
}

/**
 * The Electron preload's GateApi when there is one, else the same interface over the web admin,
 * with its connection. The desktop window has none: it lives and dies with the process it talks to.
 */
export function resolveGate(win: Window): { gate: GateApi; connection: GateConnection | null } {
  return win.gate ? { gate: win.gate, connection: null } : createBrowserGate();
}

export const GateContext = createContext<GateApi | null>(null);

/** The GateApi: the only way the window reaches the gate. */
export function useGate(): GateApi {
  const gate = useContext(GateContext);
  if (!gate) throw new Error('useGate outside <GateContext>');
  return gate;
}
