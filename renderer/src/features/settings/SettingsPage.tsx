import { type ReactNode, useId, useState } from 'react';
import type { Language, ProxySettings, SettingsView } from '../../../../electron/shared/contract.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { CheckField, Field } from '../../components/Field.js';
import { useToast } from '../../components/Toast.js';
import { useGate } from '../../gate.js';
import { useI18n } from '../../i18n/context.js';
import type { PlainMessageKey } from '../../i18n/translate.js';
import { useGateState } from '../../state.js';
import { BackendsSection } from './BackendsSection.js';
import {
  type BackendFormRow,
  LAN_HOST,
  LOCAL_HOST,
  NUMBER_FIELDS,
  type NumberField,
  type SettingsErrorKey,
  type SettingsField,
  type SettingsFormValues,
  isSharedOnLan,
  parseSettingsForm,
  pinnedBy,
  settingsErrorsFromIssues,
  settingsFormFromView,
} from './settings-form.js';

export function SettingsPage() {
  const { t } = useI18n();
  const { settings } = useGateState();
  return (
    <div className="page">
      <header className="page-header">
        <h1 tabIndex={-1}>{t('settings.title')}</h1>
      </header>
      {settings ? <SettingsForm view={settings} /> : <p className="muted">{t('common.loading')}</p>}
    </div>
  );
}

function SettingsForm({ view }: { view: SettingsView }) {
  const { t } = useI18n();
  const gate = useGate();
  const toast = useToast();
  const { setSettings } = useGateState();
  const [values, setValues] = useState<SettingsFormValues>(() => settingsFormFromView(view));
  const [dirty, setDirty] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<SettingsErrorKey, string>>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  // Settings changed elsewhere (the tray, another window, the CLI) show up unless the user is mid-edit.
  // Adjusted while rendering, not in an effect: an effect still pending when the user edits (a row
  // added just as the page opened) ran after the edit and put the old values back.
  const [shownView, setShownView] = useState(view);
  if (view !== shownView) {
    setShownView(view);
    if (!dirty) setValues(settingsFormFromView(view));
  }

  const set = <F extends SettingsField>(field: F, value: SettingsFormValues[F]) => {
    setValues((current) => ({ ...current, [field]: value }));
    setErrors((current) => ({ ...current, [field]: undefined }));
    setDirty(true);
    setSaved(false);
  };
  const text = (field: SettingsField) => (event: { target: { value: string } }) => set(field, event.target.value as never);
  /** A backend edited clears its own error (and the list's); a row added or removed moves the rows below, so all of theirs. */
  const setBackends = (rows: BackendFormRow[], touched?: SettingsErrorKey) => {
    setValues((current) => ({ ...current, backends: rows }));
    setErrors((current) =>
      Object.fromEntries(Object.entries(current).filter(([key]) => key !== 'backends' && (touched ? key !== touched : !key.startsWith('backends.')))),
    );
    setDirty(true);
    setSaved(false);
  };

  const save = async () => {
    const parsed = parseSettingsForm(values, view);
    setGeneral(null);
    if (!parsed.ok) {
      setErrors(Object.fromEntries((Object.entries(parsed.errors) as Array<[SettingsErrorKey, PlainMessageKey]>).map(([field, key]) => [field, t(key)])));
      toast.show(t('settings.toast.fix'), 'danger');
      return;
    }
    if (!parsed.patch.proxy && !parsed.patch.desktop) {
      setDirty(false);
      setSaved(true);
      return;
    }
    setBusy(true);
    const result = await gate.settings.update(parsed.patch);
    setBusy(false);
    if (result.ok) {
      setSettings(result.value);
      setValues(settingsFormFromView(result.value));
      setErrors({});
      setDirty(false);
      setSaved(true);
      toast.show(t('settings.toast.applied'));
    } else {
      const split = settingsErrorsFromIssues(result.error);
      setErrors(split.fields);
      setGeneral(split.general);
      toast.show(t('settings.toast.failed', { reason: result.error.message }), 'danger');
    }
  };

  /** Pinned for this run by a flag or an environment variable: read-only, and the form says which. */
  const locked = (field: keyof ProxySettings) => pinnedBy(view, field) !== null;
  /** A field's hint, after what pins it when something does. */
  const hint = (field: keyof ProxySettings, text?: string): ReactNode => {
    const by = pinnedBy(view, field);
    if (!by) return text;
    return (
      <>
        <span className="pinned-note">{t('settings.pinnedBy', { by })}</span>
        {text ? ` ${text}` : null}
      </>
    );
  };
  const shared = isSharedOnLan(values.host);
  /** A number typed in the unit its label names (seconds, MiB), with what happens at the limit as its hint. */
  const numberField = (field: NumberField, label: string, hintText: string) => (
    <Field label={label} hint={hint(field, hintText)} error={errors[field]}>
      {(props) => (
        <input
          {...props}
          type="text"
          inputMode={NUMBER_FIELDS[field].whole ? 'numeric' : 'decimal'}
          value={values[field]}
          readOnly={locked(field)}
          onChange={text(field)}
        />
      )}
    </Field>
  );

  return (
    <form
      className="form settings-form"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <fieldset className="card">
        <legend>{t('settings.network')}</legend>
        <CheckField
          label={t('settings.shareOnLan')}
          hint={hint('host', shared ? t('settings.shareOnLanOn') : t('settings.shareOnLanOff'))}
          checked={shared}
          disabled={locked('host')}
          onChange={(checked) => set('host', checked ? LAN_HOST : LOCAL_HOST)}
        />
        <div className="form-grid">
          <Field label={t('settings.host')} hint={hint('host', t('settings.hostHint'))} error={errors.host}>
            {(props) => <input {...props} type="text" value={values.host} readOnly={locked('host')} onChange={text('host')} spellCheck={false} />}
          </Field>
          <Field label={t('settings.port')} hint={hint('port')} error={errors.port}>
            {(props) => <input {...props} type="text" inputMode="numeric" value={values.port} readOnly={locked('port')} onChange={text('port')} />}
          </Field>
        </div>
        <CheckField
          label={t('settings.https')}
          hint={hint('tlsEnabled', t('settings.httpsHint'))}
          checked={values.tlsEnabled}
          disabled={locked('tlsEnabled')}
          onChange={(checked) => set('tlsEnabled', checked)}
        />
        {values.tlsEnabled ? (
          <>
            <div className="form-grid">
              <Field label={t('settings.tlsPort')} hint={hint('tlsPort')} error={errors.tlsPort}>
                {(props) => <input {...props} type="text" inputMode="numeric" value={values.tlsPort} readOnly={locked('tlsPort')} onChange={text('tlsPort')} />}
              </Field>
            </div>
            <div className="form-grid">
              <Field label={t('settings.tlsCert')} hint={hint('tlsCertFile', t('settings.tlsFilesHint'))} error={errors.tlsCertFile}>
                {(props) => (
                  <input
                    {...props}
                    type="text"
                    value={values.tlsCertFile}
                    readOnly={locked('tlsCertFile')}
                    onChange={text('tlsCertFile')}
                    spellCheck={false}
                    placeholder="/path/to/cert.pem"
                  />
                )}
              </Field>
              <Field label={t('settings.tlsKey')} hint={hint('tlsKeyFile')} error={errors.tlsKeyFile}>
                {(props) => (
                  <input
                    {...props}
                    type="text"
                    value={values.tlsKeyFile}
                    readOnly={locked('tlsKeyFile')}
                    onChange={text('tlsKeyFile')}
                    spellCheck={false}
                    placeholder="/path/to/key.pem"
                  />
                )}
              </Field>
            </div>
          </>
        ) : null}
      </fieldset>

      <fieldset className="card">
        <legend>{t('settings.ollama')}</legend>
        <Field label={t('settings.upstream')} hint={hint('upstream', t('settings.upstreamHint'))} error={errors.upstream}>
          {(props) => <input {...props} type="url" value={values.upstream} readOnly={locked('upstream')} onChange={text('upstream')} spellCheck={false} />}
        </Field>
        <BackendsSection rows={values.backends} upstream={values.upstream} errors={errors} pinnedBy={pinnedBy(view, 'backends')} onChange={setBackends} />
      </fieldset>

      <fieldset className="card">
        <legend>{t('settings.access')}</legend>
        <div className="form-grid">
          <Field label={t('settings.sessionTtl')} hint={t('settings.sessionTtlHint')} error={errors.sessionTtlSeconds}>
            {(props) => <input {...props} type="text" inputMode="numeric" value={values.sessionTtlSeconds} onChange={text('sessionTtlSeconds')} />}
          </Field>
          {numberField('maxSessionsPerKey', t('settings.maxSessionsPerKey'), t('settings.maxSessionsPerKeyHint'))}
          <Field label={t('settings.cors')} hint={t('settings.corsHint')} error={errors.corsOrigins}>
            {(props) => (
              <textarea {...props} rows={3} value={values.corsOrigins} onChange={text('corsOrigins')} spellCheck={false} placeholder="http://localhost:3000" />
            )}
          </Field>
        </div>
        <CheckField
          label={t('settings.logBodies')}
          hint={t('settings.logBodiesHint')}
          checked={values.logRequestBodies}
          onChange={(checked) => set('logRequestBodies', checked)}
        />
        <div className="form-grid">{numberField('logHistoryEntries', t('settings.logHistory'), t('settings.logHistoryHint'))}</div>
      </fieldset>

      <fieldset className="card">
        <legend>{t('settings.limits')}</legend>
        <p className="hint">{t('settings.limitsIntro')}</p>
        <fieldset className="subgroup">
          <legend>{t('settings.limits.connections')}</legend>
          <div className="form-grid aligned">
            {numberField('maxConnections', t('settings.maxConnections'), t('settings.maxConnectionsHint'))}
            {numberField('clientHeadersTimeoutMs', t('settings.clientHeadersTimeout'), t('settings.clientHeadersTimeoutHint'))}
            {numberField('clientBodyTimeoutMs', t('settings.clientBodyTimeout'), t('settings.clientBodyTimeoutHint'))}
            {numberField('clientIdleTimeoutMs', t('settings.clientIdleTimeout'), t('settings.clientIdleTimeoutHint'))}
          </div>
        </fieldset>
        <fieldset className="subgroup">
          <legend>{t('settings.limits.bodies')}</legend>
          <div className="form-grid aligned">
            {numberField('maxBodyBytes', t('settings.maxBody'), t('settings.maxBodyHint'))}
            {numberField('maxInspectBytes', t('settings.maxInspect'), t('settings.maxInspectHint'))}
            {numberField('maxUnauthenticatedBodyBytes', t('settings.maxUnauthenticatedBody'), t('settings.maxUnauthenticatedBodyHint'))}
            {numberField('unauthenticatedBodyBudgetBytes', t('settings.unauthenticatedBudget'), t('settings.unauthenticatedBudgetHint'))}
          </div>
        </fieldset>
        <fieldset className="subgroup">
          <legend>{t('settings.limits.lockout')}</legend>
          <div className="form-grid aligned">
            {numberField('lockoutMaxFailures', t('settings.lockoutFailures'), t('settings.lockoutFailuresHint'))}
            {numberField('lockoutWindowSeconds', t('settings.lockoutWindow'), t('settings.lockoutWindowHint'))}
            {numberField('lockoutCooldownSeconds', t('settings.lockoutCooldown'), t('settings.lockoutCooldownHint'))}
          </div>
        </fieldset>
      </fieldset>

      <fieldset className="card">
        <legend>{t('settings.app')}</legend>
        {view.desktop ? (
          <CheckField label={t('settings.launchAtLogin')} checked={values.launchAtLogin} onChange={(checked) => set('launchAtLogin', checked)} />
        ) : (
          <p className="hint">{t('settings.launchAtLoginDesktopOnly')}</p>
        )}
        <LanguageField />
        <p className="hint">{t('settings.storePath', { path: view.storePath })}</p>
      </fieldset>

      <ErrorMessage error={general} />
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={busy}>
          {t('settings.apply')}
        </button>
        <button
          type="button"
          className="button"
          disabled={!dirty || busy}
          onClick={() => {
            setValues(settingsFormFromView(view));
            setErrors({});
            setGeneral(null);
            setDirty(false);
          }}
        >
          {t('settings.reset')}
        </button>
        <span className="saved" role="status">
          {saved ? t('settings.saved') : dirty ? t('settings.unsaved') : ''}
        </span>
      </div>
    </form>
  );
}

/** The window's language: applied at once, kept by the desktop app or (in a browser) this browser. */
export function LanguageField({ compact }: { compact?: boolean }) {
  const { t, preference, setPreference } = useI18n();
  const id = useId();
  return (
    <div className={compact ? 'language-switch' : 'field'}>
      <label htmlFor={id}>{t('settings.language')}</label>
      <select id={id} value={preference} onChange={(event) => setPreference(event.target.value as Language)}>
        <option value="system">{t('settings.languageSystem')}</option>
        <option value="en">English</option>
        <option value="zh-CN">简体中文</option>
      </select>
    </div>
  );
}
