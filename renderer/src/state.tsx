import { type Dispatch, type SetStateAction, createContext, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import type { AppInfo, GateApi, GateApiError, HealthView, KeyView, ProxyStatus, SettingsView } from '../../electron/shared/contract.js';
import type { ConnectionState, GateConnection } from '../../electron/shared/gate-client.js';

/** What several pages show at once, kept live from the gate's events. */
export interface GateState {
  app: AppInfo | null;
  status: ProxyStatus | null;
  health: HealthView | null;
  keys: KeyView[] | null;
  settings: SettingsView | null;
  /** why the first load failed (the admin token is missing, the gate is gone…) */
  error: GateApiError | null;
  /** whether the window reaches its gate; always connected in the desktop window */
  connection: ConnectionState;
  /**
   * How many times the connection came back. Everything above is reloaded when it changes; a page
   * that loads data of its own (sessions, usage) depends on it to reload too.
   */
  reconnected: number;
  /** for answers that carry a newer value than the last event (the event follows anyway) */
  setStatus: Dispatch<SetStateAction<ProxyStatus | null>>;
  setHealth: Dispatch<SetStateAction<HealthView | null>>;
  setKeys: Dispatch<SetStateAction<KeyView[] | null>>;
  setSettings: Dispatch<SetStateAction<SettingsView | null>>;
}

const ALWAYS_CONNECTED: ConnectionState = { state: 'connected', epoch: 0 };
const noSubscription = () => () => {};

/** The connection's state, followed; a window without one (the desktop's) is always connected. */
function useConnectionState(connection: GateConnection | null | undefined): ConnectionState {
  return useSyncExternalStore(connection ? connection.subscribe : noSubscription, connection ? connection.current : () => ALWAYS_CONNECTED);
}

/**
 * Loads the shared state and follows its events; listeners are attached before the first load so
 * no change falls between. After a lost connection comes back, all of it is loaded again: keys
 * may have been added and the proxy stopped meanwhile, and the events that said so were missed.
 */
export function useGateStateSource(gate: GateApi, connection?: GateConnection | null): GateState {
  const [app, setApp] = useState<AppInfo | null>(null);
  const [status, setStatus] = useState<ProxyStatus | null>(null);
  const [health, setHealth] = useState<HealthView | null>(null);
  const [keys, setKeys] = useState<KeyView[] | null>(null);
  const [settings, setSettings] = useState<SettingsView | null>(null);
  const [error, setError] = useState<GateApiError | null>(null);
  const link = useConnectionState(connection);
  const reconnected = link.epoch;

  useEffect(() => {
    let live = true;
    setError(null);
    const unsubscribe = [gate.on('status', setStatus), gate.on('health', setHealth), gate.on('keys', setKeys), gate.on('settings', setSettings)];
    const load = async <T,>(call: Promise<{ ok: true; value: T } | { ok: false; error: GateApiError }>, set: (value: T) => void) => {
      const result = await call;
      if (!live) return;
      if (result.ok) set(result.value);
      else setError((current) => current ?? result.error);
    };
    void load(gate.app.info(), setApp);
    void load(gate.proxy.status(), setStatus);
    void load(gate.keys.list(), setKeys);
    void load(gate.settings.get(), setSettings);
    void load(gate.health.get(), setHealth);
    return () => {
      live = false;
      for (const stop of unsubscribe) stop();
    };
  }, [gate, reconnected]);

  return { app, status, health, keys, settings, error, connection: link, reconnected, setStatus, setHealth, setKeys, setSettings };
}

export const GateStateContext = createContext<GateState | null>(null);

export function useGateState(): GateState {
  const state = useContext(GateStateContext);
  if (!state) throw new Error('useGateState outside <GateStateContext>');
  return state;
}
