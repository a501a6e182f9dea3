import { describe, expect, it } from 'vitest';
import type { SettingsView } from '../../../../electron/shared/contract.js';
import { SETTINGS } from '../../testing/fixtures.js';
import { parseSettingsForm, settingsErrorsFromIssues, settingsFormFromView } from './settings-form.js';

const VIEW: SettingsView = SETTINGS;

describe('the settings form', () => {
  it('sends nothing when nothing changed', () => {
    expect(parseSettingsForm(settingsFormFromView(VIEW), VIEW)).toEqual({ ok: true, patch: {} });
  });

  it('sends only the fields that changed, typed', () => {
    const values = { ...settingsFormFromView(VIEW), host: '0.0.0.0', port: ' 9000 ', corsOrigins: 'http://a.example:3000/\n*, http://a.example:3000', logRequestBodies: true };
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
    expect(parseSettingsForm({ ...settingsFormFromView(VIEW), tlsEnabled: true, tlsPort: '8000' }, VIEW)).toEqual({ ok: false, errors: { tlsPort: 'settings.error.samePort' } });
  });

  it('keeps a port the gate already has, even 0 from the command line, but refuses 0 typed in', () => {
    const pinned: SettingsView = { ...VIEW, proxy: { ...VIEW.proxy, port: 0 }, overridden: ['port'] };
    expect(parseSettingsForm({ ...settingsFormFromView(pinned), sessionTtlSeconds: '60' }, pinned)).toEqual({ ok: true, patch: { proxy: { sessionTtlSeconds: 60 } } });
    expect(parseSettingsForm({ ...settingsFormFromView(VIEW), port: '0' }, VIEW)).toEqual({ ok: false, errors: { port: 'settings.error.port' } });
  });

  it('includes launch at login only in the desktop app', () => {
    const desktop: SettingsView = { ...VIEW, desktop: { startOnLaunch: true, launchAtLogin: false, showInDock: false, language: 'system' } };
    expect(parseSettingsForm({ ...settingsFormFromView(desktop), launchAtLogin: true }, desktop)).toEqual({ ok: true, patch: { desktop: { launchAtLogin: true } } });
    expect(parseSettingsForm({ ...settingsFormFromView(VIEW), launchAtLogin: true }, VIEW)).toEqual({ ok: true, patch: {} });
  });

  it('puts the gate’s reasons under their fields', () => {
    expect(
      settingsErrorsFromIssues({ code: 'invalid_input', message: 'm', issues: [{ path: 'proxy.port', message: 'ports go up to 65535' }, { path: 'proxy.maxBodyBytes', message: 'too small' }] }),
    ).toEqual({ fields: { port: 'ports go up to 65535' }, general: 'proxy.maxBodyBytes: too small' });
    expect(settingsErrorsFromIssues({ code: 'listen_failed', message: 'port 80 is already in use' })).toEqual({ fields: {}, general: 'port 80 is already in use' });
  });
});
