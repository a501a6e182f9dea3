import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { App } from 'electron';

/** Whether the app starts when the user logs in; the operating system keeps the truth. */
export interface LoginItem {
  readonly supported: boolean;
  get(): boolean;
  set(enabled: boolean): void;
}

export interface LoginItemOptions {
  app: Pick<App, 'getLoginItemSettings' | 'setLoginItemSettings' | 'isPackaged'>;
  platform: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  /** the program to start: the AppImage, or the installed executable */
  executable?: string;
}

/**
 * macOS and Windows have an Electron API for it. On Linux it is an XDG autostart entry, written
 * only for an installed app (an AppImage or a package): a development build has no stable
 * program to start, so there the setting is unsupported.
 */
export function createLoginItem({ app, platform, env = process.env, executable }: LoginItemOptions): LoginItem {
  if (platform === 'darwin' || platform === 'win32') {
    return {
      supported: true,
      get: () => app.getLoginItemSettings().openAtLogin,
      set: (enabled) => app.setLoginItemSettings({ openAtLogin: enabled }),
    };
  }
  const program = env.APPIMAGE ?? executable ?? process.execPath;
  if (platform !== 'linux' || !app.isPackaged) return { supported: false, get: () => false, set: () => {} };
  const directory = join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'autostart');
  const file = join(directory, 'ollama-gate.desktop');
  return {
    supported: true,
    get: () => existsSync(file),
    set(enabled) {
      if (!enabled) return rmSync(file, { force: true });
      mkdirSync(directory, { recursive: true });
      writeFileSync(file, autostartEntry(program));
    },
  };
}

/** A desktop entry whose Exec is quoted as the XDG spec asks, so paths with spaces work. */
export function autostartEntry(program: string): string {
  const quoted = `"${program.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`;
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Ollama Gate',
    'Comment=API-key gate in front of Ollama',
    `Exec=${quoted}`,
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}
