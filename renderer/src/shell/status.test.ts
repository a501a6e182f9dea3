import { describe, expect, it } from 'vitest';
import type { ConnectionState } from '../../../electron/shared/gate-client.js';
import { createTranslator } from '../i18n/translate.js';
import { HEALTH, STATUS } from '../testing/fixtures.js';
import { gateIndicator, ollamaIndicator } from './status.js';

const t = createTranslator('en');
const connected: ConnectionState = { state: 'connected', epoch: 0 };
const lost: ConnectionState = { state: 'reconnecting', epoch: 0, attempt: 1, retryAt: 0 };
const refused: ConnectionState = { state: 'refused', epoch: 0 };

describe('the sidebar status', () => {
  it('the gate: serving, stopped, not serving, a warning, and disconnected over whatever was last heard', () => {
    const shown = { connection: connected, health: HEALTH };
    expect(gateIndicator({ ...shown, status: STATUS }, t)).toEqual({ tone: 'ok', icon: 'ok', value: 'Serving', detail: 'http://127.0.0.1:8000' });
    expect(gateIndicator({ ...shown, status: { ...STATUS, state: 'stopped', urls: [] } }, t)).toMatchObject({
      tone: 'muted',
      icon: 'stopped',
      value: 'Stopped',
    });
    expect(gateIndicator({ ...shown, status: { ...STATUS, state: 'error', urls: [], error: 'port 8000 is in use' } }, t)).toEqual({
      tone: 'danger',
      icon: 'error',
      value: 'Not serving',
      detail: 'port 8000 is in use',
    });
    expect(gateIndicator({ ...shown, status: { ...STATUS, error: 'port 9000 is in use' } }, t)).toMatchObject({
      tone: 'warn',
      icon: 'warning',
      value: 'Serving',
    });
    expect(gateIndicator({ ...shown, status: null }, t)).toMatchObject({ tone: 'muted', value: 'Connecting…' });
    for (const connection of [lost, refused]) {
      expect(gateIndicator({ connection, status: STATUS, health: HEALTH }, t)).toMatchObject({ tone: 'danger', icon: 'disconnected', value: 'Disconnected' });
    }
  });

  it('Ollama: its version, unreachable, exposed on the LAN, and unknown while disconnected', () => {
    const shown = { connection: connected, status: STATUS };
    expect(ollamaIndicator({ ...shown, health: HEALTH }, t)).toEqual({ tone: 'ok', icon: 'ok', value: '0.12.6', detail: 'http://127.0.0.1:11434' });
    expect(ollamaIndicator({ ...shown, health: { ...HEALTH, version: null } }, t)).toMatchObject({ value: 'Reachable' });
    expect(ollamaIndicator({ ...shown, health: { ...HEALTH, reachable: false, version: null, error: 'connection refused' } }, t)).toEqual({
      tone: 'danger',
      icon: 'error',
      value: 'Unreachable',
      detail: 'http://127.0.0.1:11434: connection refused',
    });
    const exposed = ollamaIndicator({ ...shown, health: { ...HEALTH, exposedOn: ['192.168.1.5:11434'] } }, t);
    expect(exposed).toMatchObject({ tone: 'warn', icon: 'warning', value: 'Exposed on LAN' });
    expect(exposed.detail).toContain('192.168.1.5:11434');
    expect(ollamaIndicator({ ...shown, health: null }, t)).toMatchObject({ tone: 'muted', icon: 'pending', value: 'Checking…' });
    expect(ollamaIndicator({ connection: lost, status: STATUS, health: HEALTH }, t)).toMatchObject({ tone: 'muted', icon: 'unknown', value: 'Unknown' });
  });

  it('never tells states apart by colour alone: each tone has its own icon', () => {
    const indicators = [
      gateIndicator({ connection: connected, status: STATUS, health: null }, t),
      gateIndicator({ connection: connected, status: { ...STATUS, state: 'stopped' }, health: null }, t),
      gateIndicator({ connection: connected, status: { ...STATUS, state: 'error' }, health: null }, t),
      gateIndicator({ connection: lost, status: STATUS, health: null }, t),
      ollamaIndicator({ connection: connected, status: STATUS, health: { ...HEALTH, exposedOn: ['x'] } }, t),
    ];
    const iconByTone = new Map<string, Set<string>>();
    for (const { tone, icon } of indicators) iconByTone.set(icon, (iconByTone.get(icon) ?? new Set()).add(tone));
    for (const tones of iconByTone.values()) expect(tones.size).toBe(1);
  });
});
