import { createContext, useContext } from 'react';
import type { GateApi } from '../../electron/shared/contract.js';
import { createBrowserGate } from './bridge.js';

declare global {
  interface Window {
    /** provided by the Electron preload; absent in a browser, where the HTTP bridge stands in */
    gate?: GateApi;
  }
}

/** The Electron preload's GateApi when there is one, else the same interface over the web admin. */
export function resolveGate(win: Window): GateApi {
  return win.gate ?? createBrowserGate();
}

export const GateContext = createContext<GateApi | null>(null);

/** The GateApi: the only way the window reaches the gate. */
export function useGate(): GateApi {
  const gate = useContext(GateContext);
  if (!gate) throw new Error('useGate outside <GateContext>');
  return gate;
}
