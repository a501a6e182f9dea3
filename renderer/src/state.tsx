import { type Dispatch, type SetStateAction, createContext, useContext, useEffect, useState } from 'react';
import type { AppInfo, GateApi, GateApiError, HealthView, KeyView, ProxyStatus, SettingsView } from '../../electron/shared/contract.js';

/** What several pages show at once, kept live from the gate's events. */
export interface GateState {
  app: AppInfo | null;
  status: ProxyStatus | null;
  health: HealthView | null;
  keys: KeyView[] | null;
  settings: SettingsView | null;
  /** why the first load failed (the admin token is missing, the gate is gone…) */
  error: GateApiError | null;
  /** for answers that carry a newer value than the last event (the event follows anyway) */
  setStatus: Dispatch<SetStateAction<ProxyStatus | null>>;
  setHealth: Dispatch<SetStateAction<HealthView | null>>;
  setKeys: Dispatch<SetStateAction<KeyView[] | null>>;
  setSettings: Dispatch<SetStateAction<SettingsView | null>>;
}

/** Loads the shared state and follows its events; listeners are attached before the first load so no change falls between. */
export function useGateStateSource(gate: GateApi): GateState {
  const [app, setApp] = useState<AppInfo | null>(null);
  const [status, setStatus] = useState<ProxyStatus | null>(null);
  const [health, setHealth] = useState<HealthView | null>(null);
  const [keys, setKeys] = useState<KeyView[] | null>(null);
  const [settings, setSettings] = useState<SettingsView | null>(null);
  const [error, setError] = useState<GateApiError | null>(null);

  useEffect(() => {
    let live = true;
    const unsubscribe = [
      gate.on('status', setStatus),
      gate.on('health', setHealth),
      gate.on('keys', setKeys),
      gate.on('settings', setSettings),
    ];
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
  }, [gate]);

  return { app, status, health, keys, settings, error, setStatus, setHealth, setKeys, setSettings };
}

export const GateStateContext = createContext<GateState | null>(null);

export function useGateState(): GateState {
  const state = useContext(GateStateContext);
  if (!state) throw new Error('useGateState outside <GateStateContext>');
  return state;
}
