import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import type { GateService } from '../core/service.js';
import { GATE_EVENTS, GATE_METHODS, type GateResult, eventChannel, methodChannel } from '../shared/contract.js';
import { isAppUrl } from './window.js';

export interface IpcOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  service: Pick<GateService, 'call' | 'on'>;
  /** the app's own window's page, when there is one: the only caller answered, and where events go */
  window: () => WebContents | undefined;
  /** the renderer's URL (app://gate/index.html, or the dev server) */
  appUrl: string;
}

const FORBIDDEN: GateResult<never> = { ok: false, error: { code: 'forbidden', message: 'only the Ollama Gate window may call the gate' } };

/**
 * One handler per GateApi method, registered from the contract's list: each checks the caller is
 * the app's own window, then hands the input to the service, which validates it against the
 * method's schema. Answers are results (`{ ok, value }` or `{ ok: false, error }`), never thrown
 * errors, which Electron would flatten to a string. Events are forwarded to the window.
 * Returns a function that removes it all.
 */
export function registerIpc({ ipcMain, service, window, appUrl }: IpcOptions): () => void {
  for (const method of GATE_METHODS) {
    ipcMain.handle(methodChannel(method), async (event, ...args: unknown[]) => {
      if (!isTrustedSender(event, window(), appUrl)) return FORBIDDEN;
      // The preload sends one argument at most; more means someone else is talking.
      if (args.length > 1) return { ok: false, error: { code: 'invalid_input', message: `${method} takes one argument` } };
      return service.call(method, args[0]);
    });
  }
  const unsubscribe = GATE_EVENTS.map((name) =>
    service.on(name, (payload) => {
      const contents = window();
      if (contents && !contents.isDestroyed()) contents.send(eventChannel(name), payload);
    }),
  );
  return () => {
    for (const method of GATE_METHODS) ipcMain.removeHandler(methodChannel(method));
    for (const stop of unsubscribe) stop();
  };
}

/**
 * A message is trusted when it comes from the main frame of the app's own window showing the app's
 * own page: not from another window, an iframe, or a page it was somehow navigated to.
 */
export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>, window: WebContents | undefined, appUrl: string): boolean {
  if (!window || window.isDestroyed() || event.sender.id !== window.id) return false;
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  return isAppUrl(frame.url, appUrl);
}
