import { join } from 'node:path';

/** What the tray icon shows: `offline` is Ollama not answering, `exposed` Ollama open on the LAN. */
export type TrayIconState = 'serving' | 'exposed' | 'offline' | 'stopped' | 'error';

export const TRAY_ICON_STATES: readonly TrayIconState[] = ['serving', 'exposed', 'offline', 'stopped', 'error'];

/**
 * `tray-serving.png` (coloured, Windows and Linux) or `tray-servingTemplate.png` (black on
 * transparent, which macOS tints for light and dark menu bars); each has an `@2x` beside it that
 * Electron picks on high-density screens.
 */
export function trayIconFile(state: TrayIconState, template: boolean, scale: 1 | 2 = 1): string {
  return `tray-${state}${template ? 'Template' : ''}${scale === 2 ? '@2x' : ''}.png`;
}

export function trayIconPath(directory: string, state: TrayIconState, platform: NodeJS.Platform): string {
  return join(directory, trayIconFile(state, platform === 'darwin'));
}
