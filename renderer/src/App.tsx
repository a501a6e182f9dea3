import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { GateApi, GatePage, Language } from '../../electron/shared/contract.js';
import type { GateConnection } from '../../electron/shared/gate-client.js';
import { ErrorMessage } from './components/ErrorMessage.js';
import { BrandMark, Icon } from './components/Icon.js';
import { ToastProvider } from './components/Toast.js';
import { KeysPage } from './features/keys/KeysPage.js';
import { LogsPage } from './features/logs/LogsPage.js';
import { LogStore, connectLogStore } from './features/logs/log-store.js';
import { OverviewPage } from './features/overview/OverviewPage.js';
import { SessionsPage } from './features/sessions/SessionsPage.js';
import { LanguageField, SettingsPage } from './features/settings/SettingsPage.js';
import { UsagePage } from './features/usage/UsagePage.js';
import { GateContext } from './gate.js';
import { type I18n, I18nContext } from './i18n/context.js';
import { type PlainMessageKey, createTranslator, resolveLocale } from './i18n/translate.js';
import { PAGES, formatHash, navigate, useHashRoute } from './router.js';
import { ConnectionBanner } from './shell/ConnectionBanner.js';
import { SidebarStatus } from './shell/SidebarStatus.js';
import { GateStateContext, type GateState, useGateStateSource } from './state.js';

const NAV_LABELS: Record<GatePage, PlainMessageKey> = {
  overview: 'nav.overview',
  keys: 'nav.keys',
  sessions: 'nav.sessions',
  logs: 'nav.logs',
  usage: 'nav.usage',
  settings: 'nav.settings',
};

/** Where a browser keeps the language choice; the desktop app keeps it in its settings. */
const LANGUAGE_KEY = 'ollama-gate.language';

/**
 * The window: sidebar and page. `connection` is the web admin's link to its gate (null in the
 * desktop window, which cannot outlive the process it talks to).
 */
export function App({ gate: transportGate, connection = null }: { gate: GateApi; connection?: GateConnection | null }) {
  const state = useGateStateSource(transportGate, connection);
  // Pages get a GateApi that is new after each reconnection, so every effect that loads data
  // with it (the log history, sessions, usage) runs again without knowing about connections.
  const gate = useMemo(() => (state.reconnected === 0 ? transportGate : { ...transportGate }), [transportGate, state.reconnected]);
  const i18n = useLanguage(gate, state);
  const route = useHashRoute();
  const [logs] = useState(() => new LogStore());
  const main = useRef<HTMLElement>(null);
  const shownPage = useRef(route.page);

  useEffect(() => connectLogStore(gate, logs), [gate, logs]);
  useEffect(() => gate.on('navigate', navigate), [gate]);
  // A new page takes the focus to its heading, as a page load would.
  useEffect(() => {
    if (shownPage.current === route.page) return;
    shownPage.current = route.page;
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route.page]);

  const { t } = i18n;
  const page = {
    overview: <OverviewPage />,
    keys: <KeysPage route={route} />,
    sessions: <SessionsPage />,
    logs: <LogsPage store={logs} />,
    usage: <UsagePage />,
    settings: <SettingsPage />,
  }[route.page];

  return (
    <GateContext.Provider value={gate}>
      <GateStateContext.Provider value={state}>
        <I18nContext.Provider value={i18n}>
          <ToastProvider closeLabel={t('common.close')}>
            <button type="button" className="skip-link" onClick={() => main.current?.focus()}>
              {t('nav.skip')}
            </button>
            <div className="shell">
              <nav className="sidebar" aria-label={t('nav.label')}>
                <div className="brand" title="Ollama Gate">
                  <BrandMark className="brand-mark" />
                  <span className="brand-name">Ollama Gate</span>
                </div>
                <ul className="nav-list">
                  {PAGES.map((name) => (
                    <li key={name}>
                      <a href={formatHash({ page: name })} aria-current={route.page === name ? 'page' : undefined} title={t(NAV_LABELS[name])}>
                        <Icon name={name} className="nav-icon" />
                        <span className="nav-text">{t(NAV_LABELS[name])}</span>
                      </a>
                    </li>
                  ))}
                </ul>
                <div className="sidebar-footer">
                  <SidebarStatus />
                  <LanguageField compact />
                  {state.app ? (
                    <p className="muted small app-version">
                      {state.app.host === 'desktop' ? t('nav.desktop') : t('nav.headless')} · v{state.app.version}
                    </p>
                  ) : null}
                </div>
              </nav>
              <main ref={main} id="main" tabIndex={-1}>
                <ConnectionBanner onRetry={() => connection?.retry()} />
                {state.connection.state === 'connected' ? <ErrorMessage error={state.error} className="page-banner" /> : null}
                {page}
              </main>
            </div>
          </ToastProvider>
        </I18nContext.Provider>
      </GateStateContext.Provider>
    </GateContext.Provider>
  );
}

/** The window's language: the desktop app's setting, or this browser's choice, or the system's. */
function useLanguage(gate: GateApi, state: GateState): I18n {
  const [stored, setStored] = useState<Language>(() => readStoredLanguage());
  const [systemLanguages, setSystemLanguages] = useState<readonly string[]>(() => navigator.languages ?? [navigator.language]);
  useEffect(() => {
    const follow = () => setSystemLanguages(navigator.languages ?? [navigator.language]);
    window.addEventListener('languagechange', follow);
    return () => window.removeEventListener('languagechange', follow);
  }, []);

  const desktop = state.settings?.desktop ?? null;
  const preference = desktop?.language ?? stored;
  const { setSettings } = state;
  const setPreference = useCallback(
    (language: Language) => {
      setStored(language);
      try {
        localStorage.setItem(LANGUAGE_KEY, language);
      } catch {
        // storage may be off; the choice then lasts until the page closes
      }
      if (desktop) void gate.settings.update({ desktop: { language } }).then((result) => result.ok && setSettings(result.value));
    },
    [gate, desktop, setSettings],
  );
  const locale = resolveLocale(preference, systemLanguages);
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  return useMemo(() => ({ locale, t: createTranslator(locale), preference, setPreference }), [locale, preference, setPreference]);
}

function readStoredLanguage(): Language {
  try {
    const value = localStorage.getItem(LANGUAGE_KEY);
    return value === 'en' || value === 'zh-CN' ? value : 'system';
  } catch {
    return 'system';
  }
}
