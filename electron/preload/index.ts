/**
 * The window's only way to the gate: `window.gate`, one function per GateApi method and `on` for
 * events, built from the contract. Raw ipcRenderer never crosses the bridge, event listeners never
 * see Electron's event object, and each subscription returns its own unsubscribe function.
 * Bundled into one CommonJS file (vite.preload.config.ts), as a sandboxed preload must be.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { eventChannel, methodChannel } from '../shared/contract.js';
import { type GateTransport, createGateClient } from '../shared/gate-client.js';

const transport: GateTransport = {
  invoke: (method, request) => (request === undefined ? ipcRenderer.invoke(methodChannel(method)) : ipcRenderer.invoke(methodChannel(method), request)),
  subscribe(event, listener) {
    const channel = eventChannel(event);
    const forward = (_event: Electron.IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(channel, forward);
    return () => {
      ipcRenderer.removeListener(channel, forward);
    };
  },
};

contextBridge.exposeInMainWorld('gate', createGateClient(transport));
