import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { autostartEntry, createLoginItem } from './login-item.js';

function fakeApp(isPackaged = true) {
  let openAtLogin = false;
  return {
    isPackaged,
    getLoginItemSettings: vi.fn(() => ({ openAtLogin }) as ReturnType<Electron.App['getLoginItemSettings']>),
    setLoginItemSettings: vi.fn((settings: { openAtLogin?: boolean }) => void (openAtLogin = settings.openAtLogin ?? false)),
  };
}

describe('launch at login', () => {
  it.each(['darwin', 'win32'] as const)('uses the login item API on %s', (platform) => {
    const app = fakeApp();
    const item = createLoginItem({ app, platform });
    expect(item.supported).toBe(true);
    item.set(true);
    expect(app.setLoginItemSettings).toHaveBeenCalledWith({ openAtLogin: true });
    expect(item.get()).toBe(true);
  });

  it('writes and removes an XDG autostart entry for an installed Linux app', () => {
    const config = mkdtempSync(join(tmpdir(), 'gate-xdg-'));
    try {
      const item = createLoginItem({ app: fakeApp(), platform: 'linux', env: { XDG_CONFIG_HOME: config, APPIMAGE: '/home/me/Apps/Ollama Gate.AppImage' } });
      expect(item.supported).toBe(true);
      expect(item.get()).toBe(false);
      item.set(true);
      const file = join(config, 'autostart', 'ollama-gate.desktop');
      expect(readFileSync(file, 'utf8')).toContain('Exec="/home/me/Apps/Ollama Gate.AppImage"');
      expect(item.get()).toBe(true);
      item.set(false);
      expect(existsSync(file)).toBe(false);
      expect(item.get()).toBe(false);
    } finally {
      rmSync(config, { recursive: true, force: true });
    }
  });

  it('is unsupported in a development build on Linux', () => {
    const item = createLoginItem({ app: fakeApp(false), platform: 'linux', env: {} });
    expect(item.supported).toBe(false);
    item.set(true);
    expect(item.get()).toBe(false);
  });

  it('quotes the program as the desktop entry spec asks', () => {
    expect(autostartEntry('/opt/a "b" $c`d\\e')).toContain('Exec="/opt/a \\"b\\" \\$c\\`d\\\\e"');
  });
});
