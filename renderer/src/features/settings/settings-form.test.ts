import { describe, expect, it } from 'vitest';
import type { SettingsView } from '../../../../electron/shared/contract.js';
import { SETTINGS } from '../../testing/fixtures.js';
import {
  MAX_BACKENDS,
  NUMBER_FIELDS,
  formatScaled,
  newBackendRow,
  parseScaled,
  parseSettingsForm,
  pinnedBy,
  settingsErrorsFromIssues,
  settingsFormFromView,
} from './settings-form.js';

const VIEW: SettingsView = SETTINGS;

describe('the settings form', () => {
  it('sends nothing when nothing changed', () => {
    expect(parseSettingsForm(settingsFormFromView(VIEW), VIEW)).toEqual({ ok: true, patch: {} });
  });

  it('sends only the fields that changed, typed', () => {
    const values = {
      ...settingsFormFromView(VIEW),
      host: '0.0.0.0',
      port: ' 9000 ',
      corsOrigins: 'http://a.example:3000/\n*, http://a.example:3000',
      logRequestBodies: true,
    };
    expect(parseSettingsForm(values, VIEW)).toEqual({
      ok: true,
      patch: { proxy: { host: '0.0.0.0', port: 9000, corsOrigins: ['http://a.example:3000', '*'], logRequestBodies: true } },
    });
  });

  it('explains each bad value by field', () => {
    const values = {
      ...settingsFormFromView(VIEW),
      host: 'not a host',
      port: '70000',
      upstream: 'ftp://x',
      sessionTtlSeconds: '-1',
      corsOrigins: 'example.com',
      tlsEnabled: true,
      tlsPort: '8000',
      tlsCertFile: '/etc/cert.pem',
    };
    expect(parseSettingsForm(values, VIEW)).toEqual({
      ok: false,
      errors: {
        host: 'settings.error.host',
        port: 'settings.error.port',
        upstream: 'settings.error.upstream',
        sessionTtlSeconds: 'settings.error.ttl',
        corsOrigins: 'settings.error.origin',
        tlsKeyFile: 'settings.error.certPair',
      },
    });
    expect(parseSettingsForm({ ...settingsFormFromView(VIEW), tlsEnabled: true, tlsPort: '8000' }, VIEW)).toEqual({
      ok: false,
      errors: { tlsPort: 'settings.error.samePort' },
    });
  });

  it('keeps a port the gate already has, even 0 from the command line, but refuses 0 typed in', () => {
    const pinned: SettingsView = { ...VIEW, proxy: { ...VIEW.proxy, port: 0 }, pinned: [{ field: 'port', by: '--port' }] };
    expect(parseSettingsForm({ ...settingsFormFromView(pinned), sessionTtlSeconds: '60' }, pinned)).toEqual({
      ok: true,
      patch: { proxy: { sessionTtlSeconds: 60 } },
    });
    expect(parseSettingsForm({ ...settingsFormFromView(VIEW), port: '0' }, VIEW)).toEqual({ ok: false, errors: { port: 'settings.error.port' } });
  });

  it('names what pins a setting, and never sends a pinned one, whatever the form holds', () => {
    const view: SettingsView = {
      ...VIEW,
      proxy: { ...VIEW.proxy, port: 9000, tlsEnabled: true, tlsPort: 9443 },
      pinned: [
        { field: 'port', by: 'OLLAMA_GATE_PORT' },
        { field: 'tlsEnabled', by: '--tls' },
      ],
    };
    expect(pinnedBy(view, 'port')).toBe('OLLAMA_GATE_PORT');
    expect(pinnedBy(view, 'tlsEnabled')).toBe('--tls');
    expect(pinnedBy(view, 'tlsPort')).toBeNull();
    const changed = { ...settingsFormFromView(view), port: '9001', tlsEnabled: false, tlsPort: '9444' };
    expect(parseSettingsForm(changed, view)).toEqual({ ok: true, patch: { proxy: { tlsPort: 9444 } } });
    // Unpinned, the same form changes them.
    expect(parseSettingsForm(changed, { ...view, pinned: [] })).toEqual({ ok: true, patch: { proxy: { port: 9001, tlsEnabled: false, tlsPort: 9444 } } });
  });

  it('includes launch at login only in the desktop app', () => {
    const desktop: SettingsView = { ...VIEW, desktop: { startOnLaunch: true, launchAtLogin: false, showInDock: false, language: 'system' } };
    expect(parseSettingsForm({ ...settingsFormFromView(desktop), launchAtLogin: true }, desktop)).toEqual({
      ok: true,
      patch: { desktop: { launchAtLogin: true } },
    });
    expect(parseSettingsForm({ ...settingsFormFromView(VIEW), launchAtLogin: true }, VIEW)).toEqual({ ok: true, patch: {} });
  });

  it('puts the gate’s reasons under their fields', () => {
    expect(
      settingsErrorsFromIssues({
        code: 'invalid_input',
        message: 'm',
        issues: [
          { path: 'proxy.port', message: 'ports go up to 65535' },
          { path: 'proxy.maxHeaderBytes', message: 'too small' },
        ],
      }),
    ).toEqual({ fields: { port: 'ports go up to 65535' }, general: 'proxy.maxHeaderBytes: too small' });
    expect(settingsErrorsFromIssues({ code: 'invalid_input', message: 'm', issues: [{ path: 'proxy.maxBodyBytes', message: '0 means no limit' }] })).toEqual({
      fields: { maxBodyBytes: '0 means no limit' },
      general: null,
    });
    expect(settingsErrorsFromIssues({ code: 'listen_failed', message: 'port 80 is already in use' })).toEqual({
      fields: {},
      general: 'port 80 is already in use',
    });
  });

  describe('limits', () => {
    it('shows sizes in MiB and timeouts in seconds', () => {
      const values = settingsFormFromView(VIEW);
      expect(values).toMatchObject({
        maxConnections: '2048',
        clientHeadersTimeoutMs: '30',
        clientBodyTimeoutMs: '30',
        clientIdleTimeoutMs: '65',
        maxBodyBytes: '0',
        maxInspectBytes: '16',
        maxUnauthenticatedBodyBytes: '1',
        unauthenticatedBodyBudgetBytes: '64',
        maxSessionsPerKey: '32',
        lockoutMaxFailures: '10',
        lockoutWindowSeconds: '60',
        lockoutCooldownSeconds: '300',
      });
      expect(formatScaled(1536 * 1024, 1024 * 1024)).toBe('1.5');
      expect(formatScaled(100, 1000)).toBe('0.1');
      expect(formatScaled(1024, 1024 * 1024)).toBe('0.001');
      // A small limit never reads as 0 ("no limit").
      expect(formatScaled(100, 1024 * 1024)).toBe('0.0000954');
    });

    it('converts what is typed to the stored unit, sending only what changed', () => {
      const values = {
        ...settingsFormFromView(VIEW),
        maxConnections: ' 4096 ',
        clientHeadersTimeoutMs: '2.5',
        clientIdleTimeoutMs: '65', // unchanged
        maxBodyBytes: '100',
        maxInspectBytes: '.5', // 0.5 MiB: under the 1 MiB floor, see below
        maxUnauthenticatedBodyBytes: '0.25',
        unauthenticatedBodyBudgetBytes: '128',
        maxSessionsPerKey: '4',
        lockoutMaxFailures: '0',
        lockoutCooldownSeconds: '900',
      };
      expect(parseSettingsForm({ ...values, maxInspectBytes: '32' }, VIEW)).toEqual({
        ok: true,
        patch: {
          proxy: {
            maxConnections: 4096,
            clientHeadersTimeoutMs: 2_500,
            maxBodyBytes: 100 * 1024 * 1024,
            maxInspectBytes: 32 * 1024 * 1024,
            maxUnauthenticatedBodyBytes: 256 * 1024,
            unauthenticatedBodyBudgetBytes: 128 * 1024 * 1024,
            maxSessionsPerKey: 4,
            lockoutMaxFailures: 0,
            lockoutCooldownSeconds: 900,
          },
        },
      });
      expect(parseSettingsForm(values, VIEW)).toEqual({ ok: false, errors: { maxInspectBytes: 'settings.error.maxInspect' } });
      // Back to what the gate has: nothing to send.
      expect(parseSettingsForm({ ...settingsFormFromView(VIEW), maxBodyBytes: '0', clientBodyTimeoutMs: '30.000' }, VIEW)).toEqual({ ok: true, patch: {} });
    });

    it('checks each limit against the gate’s own range, in the unit typed', () => {
      const values = {
        ...settingsFormFromView(VIEW),
        maxConnections: '15',
        clientHeadersTimeoutMs: '0.05',
        clientBodyTimeoutMs: 'soon',
        clientIdleTimeoutMs: '0.5',
        maxBodyBytes: '-1',
        maxInspectBytes: '1025',
        maxUnauthenticatedBodyBytes: '0.0009',
        unauthenticatedBodyBudgetBytes: '16385',
        maxSessionsPerKey: '0',
        lockoutMaxFailures: '10001',
        lockoutWindowSeconds: '1.5',
        lockoutCooldownSeconds: '604801',
      };
      expect(parseSettingsForm(values, VIEW)).toEqual({
        ok: false,
        errors: {
          maxConnections: 'settings.error.maxConnections',
          clientHeadersTimeoutMs: 'settings.error.clientTimeout',
          clientBodyTimeoutMs: 'settings.error.clientTimeout',
          clientIdleTimeoutMs: 'settings.error.idleTimeout',
          maxBodyBytes: 'settings.error.maxBody',
          maxInspectBytes: 'settings.error.maxInspect',
          maxUnauthenticatedBodyBytes: 'settings.error.maxUnauthenticatedBody',
          unauthenticatedBodyBudgetBytes: 'settings.error.unauthenticatedBudget',
          maxSessionsPerKey: 'settings.error.maxSessionsPerKey',
          lockoutMaxFailures: 'settings.error.lockoutFailures',
          lockoutWindowSeconds: 'settings.error.lockoutWindow',
          lockoutCooldownSeconds: 'settings.error.lockoutCooldown',
        },
      });
    });

    it('takes the ends of each range, and nothing past them', () => {
      const cases: Array<[keyof typeof NUMBER_FIELDS, string, number, string]> = [
        ['maxConnections', '16', 16, '1000001'],
        ['clientHeadersTimeoutMs', '0.1', 100, '0.09'],
        ['clientIdleTimeoutMs', '1', 1_000, '0.999'],
        ['maxInspectBytes', '1024', 1024 * 1024 * 1024, '0.99'],
        ['maxUnauthenticatedBodyBytes', '0.001', 1049, '1024.001'],
        ['unauthenticatedBodyBudgetBytes', '16384', 16 * 1024 * 1024 * 1024, '0.5'],
        ['maxSessionsPerKey', '10000', 10_000, '10001'],
        ['lockoutWindowSeconds', '86400', 86_400, '86401'],
      ];
      for (const [field, inside, stored, outside] of cases) {
        expect(parseScaled(inside, NUMBER_FIELDS[field]), `${field} ${inside}`).toBe(stored);
        expect(parseScaled(outside, NUMBER_FIELDS[field]), `${field} ${outside}`).toBeNull();
      }
      // Whole units where the gate counts them; no signs, exponents or thousands separators.
      for (const text of ['', ' ', '1e3', '+5', '1,000', '0x10', 'Infinity']) expect(parseScaled(text, NUMBER_FIELDS.maxConnections), text).toBeNull();
      expect(parseScaled('2.5', NUMBER_FIELDS.maxSessionsPerKey)).toBeNull();
    });

    it('keeps a limit the gate already has, even one the form would refuse', () => {
      // Set in the store file in bytes: 1000 bytes is not a round number of MiB, and 5 ms is under the form's range.
      const pinned: SettingsView = { ...VIEW, proxy: { ...VIEW.proxy, maxUnauthenticatedBodyBytes: 1000, clientBodyTimeoutMs: 5 } };
      const values = settingsFormFromView(pinned);
      // Shown rounded, kept exact while untouched.
      expect(values.maxUnauthenticatedBodyBytes).toBe('0.001');
      expect(values.clientBodyTimeoutMs).toBe('0.005');
      expect(parseSettingsForm({ ...values, lockoutWindowSeconds: '120' }, pinned)).toEqual({ ok: true, patch: { proxy: { lockoutWindowSeconds: 120 } } });
      // Typed again, it is checked like anything typed.
      expect(parseSettingsForm({ ...values, clientBodyTimeoutMs: '0.006' }, pinned)).toEqual({
        ok: false,
        errors: { clientBodyTimeoutMs: 'settings.error.clientTimeout' },
      });
    });
  });

  describe('backends', () => {
    const WITH_BACKENDS: SettingsView = {
      ...VIEW,
      proxy: {
        ...VIEW.proxy,
        backends: [
          { name: 'big', url: 'http://10.0.0.5:11434', enabled: true, weight: 3 },
          { name: 'laptop', url: 'http://10.0.0.7:11434', enabled: false, weight: 1 },
        ],
      },
    };
    const row = (name: string, url: string, weight = '1', enabled = true) => ({ ...newBackendRow(), name, url, weight, enabled });

    it('shows each backend as a row, and sends nothing while they are as the gate has them', () => {
      const values = settingsFormFromView(WITH_BACKENDS);
      expect(values.backends.map(({ key: _, ...rest }) => rest)).toEqual([
        { name: 'big', url: 'http://10.0.0.5:11434', weight: '3', enabled: true },
        { name: 'laptop', url: 'http://10.0.0.7:11434', weight: '1', enabled: false },
      ]);
      expect(new Set(values.backends.map((backend) => backend.key)).size).toBe(2);
      expect(parseSettingsForm(values, WITH_BACKENDS)).toEqual({ ok: true, patch: {} });
      // In whatever order the gate sent their fields.
      const reordered: SettingsView = {
        ...WITH_BACKENDS,
        proxy: { ...WITH_BACKENDS.proxy, backends: WITH_BACKENDS.proxy.backends.map(({ weight, enabled, url, name }) => ({ weight, enabled, url, name })) },
      };
      expect(parseSettingsForm(settingsFormFromView(reordered), reordered)).toEqual({ ok: true, patch: {} });
    });

    it('sends the whole list, typed, when a backend is added, edited, switched or removed', () => {
      const values = settingsFormFromView(WITH_BACKENDS);
      const [big, laptop] = values.backends;
      expect(
        parseSettingsForm(
          { ...values, backends: [{ ...big!, weight: ' 5 ' }, { ...laptop!, enabled: true }, row(' gpu.box_2 ', ' https://gpu.example:11434/ ', '100')] },
          WITH_BACKENDS,
        ),
      ).toEqual({
        ok: true,
        patch: {
          proxy: {
            backends: [
              { name: 'big', url: 'http://10.0.0.5:11434', enabled: true, weight: 5 },
              { name: 'laptop', url: 'http://10.0.0.7:11434', enabled: true, weight: 1 },
              { name: 'gpu.box_2', url: 'https://gpu.example:11434', enabled: true, weight: 100 },
            ],
          },
        },
      });
      expect(parseSettingsForm({ ...values, backends: [laptop!] }, WITH_BACKENDS)).toEqual({
        ok: true,
        patch: { proxy: { backends: [{ name: 'laptop', url: 'http://10.0.0.7:11434', enabled: false, weight: 1 }] } },
      });
      expect(parseSettingsForm({ ...values, backends: [] }, WITH_BACKENDS)).toEqual({ ok: true, patch: { proxy: { backends: [] } } });
    });

    it('checks each row as the gate does, and says what is wrong on the row’s field', () => {
      const values = {
        ...settingsFormFromView(VIEW),
        backends: [
          row('', 'http://a:1'),
          row('-dash', 'ftp://a', '0'),
          row('Default', '', '101'),
          row('ALL', 'http://a:1', '1.5'),
          row('big', 'http://a:1'),
          row('BIG', 'localhost:11434', 'x'),
          row('x'.repeat(41), 'http://a:1'),
        ],
      };
      expect(parseSettingsForm(values, VIEW)).toEqual({
        ok: false,
        errors: {
          'backends.0.name': 'settings.error.backendNameRequired',
          'backends.1.name': 'settings.error.backendName',
          'backends.1.url': 'settings.error.upstream',
          'backends.1.weight': 'settings.error.backendWeight',
          'backends.2.name': 'settings.error.backendNameReserved',
          'backends.2.url': 'settings.error.backendUrlRequired',
          'backends.2.weight': 'settings.error.backendWeight',
          'backends.3.name': 'settings.error.backendNameReserved',
          'backends.3.weight': 'settings.error.backendWeight',
          'backends.5.name': 'settings.error.backendNameTaken',
          'backends.5.url': 'settings.error.upstream',
          'backends.5.weight': 'settings.error.backendWeight',
          'backends.6.name': 'settings.error.backendName',
        },
      });
      const tooMany = Array.from({ length: MAX_BACKENDS + 1 }, (_, i) => row(`b${i}`, `http://10.0.0.${i + 1}:11434`));
      expect(parseSettingsForm({ ...settingsFormFromView(VIEW), backends: tooMany }, VIEW)).toEqual({
        ok: false,
        errors: { backends: 'settings.error.backendsMax' },
      });
    });

    it('never checks nor sends a list pinned on the command line', () => {
      const pinned: SettingsView = { ...WITH_BACKENDS, pinned: [{ field: 'backends', by: '--backend' }] };
      expect(pinnedBy(pinned, 'backends')).toBe('--backend');
      const values = { ...settingsFormFromView(pinned), backends: [row('', 'nonsense')], port: '9001' };
      expect(parseSettingsForm(values, pinned)).toEqual({ ok: true, patch: { proxy: { port: 9001 } } });
    });

    it('puts the gate’s reasons about a backend on its row’s field, and about the list under the list', () => {
      expect(
        settingsErrorsFromIssues({
          code: 'invalid_input',
          message: 'm',
          issues: [
            { path: 'proxy.backends.1.url', message: "Ollama's URL, such as http://127.0.0.1:11434" },
            { path: 'proxy.backends.0.weight', message: 'at most 100' },
            { path: 'proxy.backends', message: 'each backend needs a name of its own' },
            { path: 'proxy.backends.2.extra', message: 'unknown key' },
          ],
        }),
      ).toEqual({
        fields: {
          'backends.1.url': "Ollama's URL, such as http://127.0.0.1:11434",
          'backends.0.weight': 'at most 100',
          backends: 'each backend needs a name of its own',
        },
        general: null,
      });
      expect(
        settingsErrorsFromIssues({ code: 'invalid_input', message: 'm', issues: [{ path: 'proxy.backends', message: 'set by --backend for this run' }] }),
      ).toEqual({ fields: { backends: 'set by --backend for this run' }, general: null });
    });
  });
});
