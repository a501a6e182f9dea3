import { useEffect, useState } from 'react';
import type { GateApiError, KeyView, KeyWithSecret, Navigation } from '../../../../electron/shared/contract.js';
import { Dialog } from '../../components/Dialog.js';
import { Icon } from '../../components/Icon.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { Badge } from '../../components/StatusBadge.js';
import { useGate } from '../../gate.js';
import { useI18n } from '../../i18n/context.js';
import { formatCompact, formatNumber, formatRelative, formatShortDate } from '../../lib/format.js';
import { useNow } from '../../lib/use-now.js';
import { clearAction } from '../../router.js';
import { useGateState } from '../../state.js';
import { KeyFormDialog } from './KeyFormDialog.js';
import { SecretDialog } from './SecretDialog.js';
import { changedFields, emptyKeyForm, keyFormFromView } from './key-form.js';
import { preferredBaseUrl, snippetModel } from './snippets.js';

type Open =
  | { kind: 'create' }
  | { kind: 'edit'; key: KeyView }
  | { kind: 'rotate'; key: KeyView }
  | { kind: 'delete'; key: KeyView }
  | { kind: 'secret'; created: KeyWithSecret; rotated: boolean };

export function KeysPage({ route }: { route: Navigation }) {
  const { t, locale } = useI18n();
  const gate = useGate();
  const { keys, status, health, settings, setKeys } = useGateState();
  const [open, setOpen] = useState<Open | null>(null);
  const [error, setError] = useState<GateApiError | null>(null);
  const now = useNow(30_000);

  useEffect(() => {
    if (route.action === 'create-key') {
      setOpen({ kind: 'create' });
      clearAction('keys');
    }
  }, [route]);

  const replace = (key: KeyView) => setKeys((current) => (current ?? []).map((k) => (k.id === key.id ? key : k)));
  const close = () => setOpen(null);

  const setEnabled = async (key: KeyView, enabled: boolean) => {
    const result = await gate.keys.setEnabled({ id: key.id, enabled });
    if (result.ok) replace(result.value);
    setError(result.ok ? null : result.error);
  };

  const rotate = async (key: KeyView) => {
    const result = await gate.keys.rotate({ id: key.id });
    if (result.ok) {
      replace(result.value.key);
      setOpen({ kind: 'secret', created: result.value, rotated: true });
    } else {
      setOpen(null);
      setError(result.error);
    }
  };

  const remove = async (key: KeyView) => {
    const result = await gate.keys.remove({ id: key.id });
    setOpen(null);
    if (result.ok) setKeys((current) => (current ?? []).filter((k) => k.id !== key.id));
    setError(result.ok ? null : result.error);
  };

  const baseUrl = preferredBaseUrl(status?.urls ?? [], settings?.proxy.port ?? 8000);
  const model = snippetModel(health?.models ?? []);

  return (
    <div className="page">
      <header className="page-header">
        <h1 tabIndex={-1}>{t('keys.title')}</h1>
        <div className="toolbar">
          <button type="button" className="button primary" onClick={() => setOpen({ kind: 'create' })}>
            {t('keys.new')}
          </button>
        </div>
      </header>
      <ErrorMessage error={error} />
      {keys === null ? (
        <p className="muted">{t('common.loading')}</p>
      ) : keys.length === 0 ? (
        <div className="card empty-state">
          <p>{t('keys.empty')}</p>
        </div>
      ) : (
        <div className="table-wrap card flush">
          <table className="table keys-table">
            <caption className="offscreen">{t('keys.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('keys.col.enabled')}</th>
                <th scope="col">{t('keys.col.user')}</th>
                <th scope="col">{t('keys.col.key')}</th>
                <th scope="col">{t('keys.col.models')}</th>
                <th scope="col">{t('keys.col.limits')}</th>
                <th scope="col">{t('keys.col.expires')}</th>
                <th scope="col">{t('keys.col.created')}</th>
                <th scope="col">{t('keys.col.lastUsed')}</th>
                <th scope="col" className="num">
                  {t('keys.col.today')}
                </th>
                <th scope="col">
                  <span className="offscreen">{t('keys.col.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr key={key.id} className={key.enabled && !key.expired ? '' : 'inactive'}>
                  <td>
                    <input
                      type="checkbox"
                      role="switch"
                      className="switch"
                      checked={key.enabled}
                      aria-label={t('keys.enabledFor', { user: key.user, prefix: key.prefix })}
                      onChange={(event) => void setEnabled(key, event.target.checked)}
                    />
                  </td>
                  <td>
                    <strong>{key.user}</strong>
                    {key.name ? <div className="muted small">{key.name}</div> : null}
                  </td>
                  <td className="nowrap">
                    <code>{key.prefix}…</code>
                    <div>
                      <Badge tone={key.scope === 'full' ? 'warn' : 'muted'}>
                        <span className="offscreen">{t('keys.col.scope')}: </span>
                        {key.scope === 'full' ? t('keys.scope.full') : t('keys.scope.inference')}
                      </Badge>
                    </div>
                  </td>
                  <td>
                    {key.models.length ? (
                      <ul className="chips">
                        {key.models.map((model) => (
                          <li key={model}>
                            <code>{model}</code>
                          </li>
                        ))}
                      </ul>
                    ) : (
                      <span className="muted">{t('keys.allModels')}</span>
                    )}
                  </td>
                  <td className="limits">
                    {key.rpm === null && key.concurrency === null && key.dailyTokens === null ? (
                      <span className="muted">{t('keys.noLimits')}</span>
                    ) : (
                      <>
                        {key.rpm !== null ? <div>{t('keys.limit.rpm', { count: formatNumber(key.rpm, locale) })}</div> : null}
                        {key.concurrency !== null ? <div>{t('keys.limit.concurrency', { count: formatNumber(key.concurrency, locale) })}</div> : null}
                        {key.dailyTokens !== null ? <div>{t('keys.limit.dailyTokens', { count: formatCompact(key.dailyTokens, locale) })}</div> : null}
                      </>
                    )}
                  </td>
                  <td className="nowrap">
                    {key.expiresAt === null ? <span className="muted">{t('keys.never')}</span> : formatShortDate(key.expiresAt, now, locale)}
                    {key.expired ? (
                      <div>
                        <Badge tone="danger">{t('keys.expired')}</Badge>
                      </div>
                    ) : null}
                  </td>
                  <td className="nowrap">{formatShortDate(key.createdAt, now, locale)}</td>
                  <td className="nowrap">
                    {key.lastUsedAt === null ? (
                      <span className="muted">{t('keys.never')}</span>
                    ) : (
                      <>
                        <div>{formatRelative(key.lastUsedAt, Math.max(now, key.lastUsedAt), locale)}</div>
                        {key.lastUsedIp ? <div className="muted small mono">{key.lastUsedIp}</div> : null}
                      </>
                    )}
                  </td>
                  <td className="num">
                    <div>{t('keys.todayRequests', { count: formatNumber(key.today.requests, locale) })}</div>
                    <div className="muted small">{t('keys.todayTokens', { count: formatCompact(key.today.tokens, locale) })}</div>
                  </td>
                  <td className="actions">
                    <button type="button" className="button icon-button" aria-label={t('keys.editFor', { user: key.user })} title={t('common.edit')} onClick={() => setOpen({ kind: 'edit', key })}>
                      <Icon name="edit" />
                    </button>
                    <button type="button" className="button icon-button" aria-label={t('keys.rotateFor', { user: key.user })} title={t('keys.rotate')} onClick={() => setOpen({ kind: 'rotate', key })}>
                      <Icon name="rotate" />
                    </button>
                    <button type="button" className="button icon-button danger" aria-label={t('keys.deleteFor', { user: key.user })} title={t('common.delete')} onClick={() => setOpen({ kind: 'delete', key })}>
                      <Icon name="trash" />
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {open?.kind === 'create' ? (
        <KeyFormDialog
          mode="create"
          initial={emptyKeyForm()}
          onClose={close}
          onSubmit={async (fields) => {
            const result = await gate.keys.create(fields);
            if (!result.ok) return result.error;
            setKeys((current) => [...(current ?? []).filter((k) => k.id !== result.value.key.id), result.value.key]);
            setOpen({ kind: 'secret', created: result.value, rotated: false });
            return null;
          }}
        />
      ) : null}
      {open?.kind === 'edit' ? (
        <KeyFormDialog
          mode="edit"
          initial={keyFormFromView(open.key)}
          onClose={close}
          onSubmit={async (fields) => {
            const patch = changedFields(open.key, fields);
            if (Object.keys(patch).length === 0) {
              close();
              return null;
            }
            const result = await gate.keys.update({ id: open.key.id, ...patch });
            if (!result.ok) return result.error;
            replace(result.value);
            close();
            return null;
          }}
        />
      ) : null}
      {open?.kind === 'rotate' ? (
        <Confirm
          title={t('keys.rotateTitle', { user: open.key.user })}
          body={t('keys.rotateBody')}
          confirm={t('keys.rotate')}
          onConfirm={() => rotate(open.key)}
          onClose={close}
        />
      ) : null}
      {open?.kind === 'delete' ? (
        <Confirm
          title={t('keys.deleteTitle', { user: open.key.user })}
          body={t('keys.deleteBody', { prefix: open.key.prefix })}
          confirm={t('common.delete')}
          danger
          onConfirm={() => remove(open.key)}
          onClose={close}
        />
      ) : null}
      {open?.kind === 'secret' ? <SecretDialog created={open.created} rotated={open.rotated} baseUrl={baseUrl} model={model} onClose={close} /> : null}
    </div>
  );
}

function Confirm({ title, body, confirm, danger, onConfirm, onClose }: { title: string; body: string; confirm: string; danger?: boolean; onConfirm: () => Promise<void>; onClose: () => void }) {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title={title} onClose={onClose}>
      <p>{body}</p>
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose} autoFocus>
          {t('common.cancel')}
        </button>
        <button
          type="button"
          className={`button ${danger ? 'danger-solid' : 'primary'}`}
          disabled={busy}
          onClick={() => {
            setBusy(true);
            void onConfirm().finally(() => setBusy(false));
          }}
        >
          {confirm}
        </button>
      </div>
    </Dialog>
  );
}
