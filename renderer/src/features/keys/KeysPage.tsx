import { useEffect, useRef, useState } from 'react';
import type { GateApiError, KeyView, KeyWithSecret, Navigation } from '../../../../electron/shared/contract.js';
import { Badge } from '../../components/StatusBadge.js';
import { useToast } from '../../components/Toast.js';
import { useGate } from '../../gate.js';
import { useI18n } from '../../i18n/context.js';
import { formatCompact, formatNumber, formatRelative, formatShortDate } from '../../lib/format.js';
import { useNow } from '../../lib/use-now.js';
import { clearAction } from '../../router.js';
import { useGateState } from '../../state.js';
import { Confirm } from './Confirm.js';
import { ConnectDialog } from './ConnectDialog.js';
import { type KeyAction, KeyDetailsDialog } from './KeyDetailsDialog.js';
import { KeyFormDialog } from './KeyFormDialog.js';
import { RowMenu } from './RowMenu.js';
import { SecretDialog } from './SecretDialog.js';
import { changedFields, emptyKeyForm, keyFormFromView } from './key-form.js';
import { summarizeModels } from './models.js';
import { preferredBaseUrl, snippetModel } from './snippets.js';

type Open =
  | { kind: 'create' }
  | { kind: 'details' | 'edit' | 'rotate' | 'delete' | 'connect'; key: KeyView }
  | { kind: 'secret'; created: KeyWithSecret; rotated: boolean };

/**
 * The keys: a table that fits the window (low-value columns fold away as it narrows, so it never
 * scrolls sideways), each row with its switch and a "⋯" menu; details, the form, rotation,
 * deletion and "how to connect" open as dialogs.
 */
export function KeysPage({ route }: { route: Navigation }) {
  const { t, locale } = useI18n();
  const gate = useGate();
  const toast = useToast();
  const { keys, status, health, settings, setKeys } = useGateState();
  const [open, setOpen] = useState<Open | null>(null);
  const now = useNow(30_000);
  /** where the focus goes back to once a dialog (or a chain of them) closes */
  const opener = useRef<HTMLElement | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (route.action === 'create-key') {
      setOpen({ kind: 'create' });
      clearAction('keys');
    }
  }, [route]);

  const replace = (key: KeyView) => setKeys((current) => (current ?? []).map((k) => (k.id === key.id ? key : k)));
  const show = (next: Open) => {
    if (!open) opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    setOpen(next);
  };
  const close = () => {
    setOpen(null);
    // A dialog that replaced another cannot give the focus back itself: its opener is gone.
    requestAnimationFrame(() => {
      if (document.activeElement && document.activeElement !== document.body) return;
      (opener.current?.isConnected ? opener.current : heading.current)?.focus();
    });
  };
  const failed = (message: 'keys.toast.toggleFailed' | 'keys.toast.rotateFailed' | 'keys.toast.deleteFailed', key: KeyView, error: GateApiError) =>
    toast.show(t(message, { user: key.user, reason: error.message }), 'danger');

  const setEnabled = async (key: KeyView, enabled: boolean) => {
    const result = await gate.keys.setEnabled({ id: key.id, enabled });
    if (!result.ok) return failed('keys.toast.toggleFailed', key, result.error);
    replace(result.value);
    toast.show(t(enabled ? 'keys.toast.enabled' : 'keys.toast.disabled', { user: key.user }));
  };

  const rotate = async (key: KeyView) => {
    const result = await gate.keys.rotate({ id: key.id });
    if (!result.ok) {
      close();
      return failed('keys.toast.rotateFailed', key, result.error);
    }
    replace(result.value.key);
    setOpen({ kind: 'secret', created: result.value, rotated: true });
    toast.show(t('keys.toast.rotated', { user: key.user }));
  };

  const remove = async (key: KeyView) => {
    const result = await gate.keys.remove({ id: key.id });
    close();
    if (!result.ok) return failed('keys.toast.deleteFailed', key, result.error);
    setKeys((current) => (current ?? []).filter((k) => k.id !== key.id));
    toast.show(t('keys.toast.deleted', { user: key.user }));
  };

  const act = (key: KeyView) => (action: KeyAction | 'details') => show({ kind: action, key });

  const baseUrl = preferredBaseUrl(status?.urls ?? [], settings?.proxy.port ?? 8000);
  const modelFor = (key: KeyView) => snippetModel(health?.models ?? [], key.models);

  return (
    <div className="page keys-page">
      <header className="page-header">
        <h1 tabIndex={-1} ref={heading}>
          {t('keys.title')}
        </h1>
        <div className="toolbar">
          <button type="button" className="button primary" onClick={() => show({ kind: 'create' })}>
            {t('keys.new')}
          </button>
        </div>
      </header>
      {keys === null ? (
        <p className="muted">{t('common.loading')}</p>
      ) : keys.length === 0 ? (
        <div className="card empty-state">
          <p>{t('keys.empty')}</p>
        </div>
      ) : (
        <div className="keys-wrap card flush">
          <table className="table keys-table">
            <caption className="offscreen">{t('keys.caption')}</caption>
            <thead>
              <tr>
                <th scope="col" className="col-on">
                  {t('keys.col.enabled')}
                </th>
                <th scope="col" className="col-user">
                  {t('keys.col.user')}
                </th>
                <th scope="col" className="col-models">
                  {t('keys.col.models')}
                </th>
                <th scope="col" className="col-limits">
                  {t('keys.col.limits')}
                </th>
                <th scope="col" className="col-expires">
                  {t('keys.col.expires')}
                </th>
                <th scope="col" className="col-used">
                  {t('keys.col.lastUsed')}
                </th>
                <th scope="col" className="col-today num">
                  {t('keys.col.today')}
                </th>
                <th scope="col" className="col-created">
                  {t('keys.col.created')}
                </th>
                <th scope="col" className="col-actions">
                  <span className="offscreen">{t('keys.col.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => {
                const models = summarizeModels(key.models);
                const action = act(key);
                return (
                  <tr key={key.id} className={key.enabled && !key.expired ? '' : 'inactive'}>
                    <td className="col-on">
                      <input
                        type="checkbox"
                        role="switch"
                        className="switch"
                        checked={key.enabled}
                        aria-label={t('keys.enabledFor', { user: key.user, prefix: key.prefix })}
                        onChange={(event) => void setEnabled(key, event.target.checked)}
                      />
                    </td>
                    <td className="col-user">
                      <button type="button" className="link-button key-user" title={t('keys.detailsFor', { user: key.user })} onClick={() => action('details')}>
                        {key.user}
                      </button>
                      {key.name ? (
                        <div className="muted small ellipsis" title={key.name}>
                          {key.name}
                        </div>
                      ) : null}
                      <div className="key-meta">
                        <code title={t('keys.col.key')}>{key.prefix}…</code>
                        <Badge tone={key.scope === 'full' ? 'warn' : 'muted'}>
                          <span className="offscreen">{t('keys.col.scope')}: </span>
                          {key.scope === 'full' ? t('keys.scope.full') : t('keys.scope.inference')}
                        </Badge>
                      </div>
                    </td>
                    <td className="col-models">
                      {key.models.length ? (
                        <ul className="chips summary" title={key.models.join(', ')}>
                          {models.shown.map((name) => (
                            <li key={name}>
                              <code>{name}</code>
                            </li>
                          ))}
                          {models.more ? (
                            <li className="more">
                              <span aria-hidden="true">+{models.more}</span>
                              <span className="offscreen">{t('keys.moreModels', { count: models.more })}</span>
                            </li>
                          ) : null}
                        </ul>
                      ) : (
                        <span className="muted">{t('keys.allModels')}</span>
                      )}
                    </td>
                    <td className="col-limits">
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
                    <td className="col-expires">
                      {key.expiresAt === null ? <span className="muted">{t('keys.never')}</span> : formatShortDate(key.expiresAt, now, locale)}
                      {key.expired ? (
                        <div>
                          <Badge tone="danger">{t('keys.expired')}</Badge>
                        </div>
                      ) : null}
                    </td>
                    <td className="col-used">
                      {key.lastUsedAt === null ? (
                        <span className="muted">{t('keys.never')}</span>
                      ) : (
                        <>
                          <div>{formatRelative(key.lastUsedAt, Math.max(now, key.lastUsedAt), locale)}</div>
                          {key.lastUsedIp ? <div className="muted small mono ellipsis">{key.lastUsedIp}</div> : null}
                        </>
                      )}
                    </td>
                    <td className="col-today num">
                      <div>{t('keys.todayRequests', { count: formatNumber(key.today.requests, locale) })}</div>
                      <div className="muted small">{t('keys.todayTokens', { count: formatCompact(key.today.tokens, locale) })}</div>
                    </td>
                    <td className="col-created">{formatShortDate(key.createdAt, now, locale)}</td>
                    <td className="col-actions">
                      <RowMenu
                        label={t('keys.actionsFor', { user: key.user })}
                        items={[
                          { id: 'details', label: t('keys.details'), onSelect: () => action('details') },
                          { id: 'edit', label: t('common.edit'), onSelect: () => action('edit') },
                          { id: 'connect', label: t('keys.connect'), onSelect: () => action('connect') },
                          { id: 'rotate', label: `${t('keys.rotate')}…`, onSelect: () => action('rotate') },
                          { id: 'toggle', label: key.enabled ? t('keys.disable') : t('keys.enable'), onSelect: () => void setEnabled(key, !key.enabled) },
                          { id: 'delete', label: `${t('common.delete')}…`, danger: true, onSelect: () => action('delete') },
                        ]}
                      />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      {open?.kind === 'details'
        ? (() => {
            // The key as it is now: a toggle or an edit elsewhere shows at once.
            const key = keys?.find((k) => k.id === open.key.id) ?? open.key;
            return <KeyDetailsDialog keyView={key} now={now} onAction={(action) => setOpen({ kind: action, key })} onClose={close} />;
          })()
        : null}
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
            toast.show(t('keys.toast.created', { user: result.value.key.user }));
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
            toast.show(t('keys.toast.updated', { user: result.value.user }));
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
      {open?.kind === 'connect' ? (
        <ConnectDialog
          keyView={open.key}
          baseUrl={baseUrl}
          model={modelFor(open.key)}
          onRotate={() => setOpen({ kind: 'rotate', key: open.key })}
          onClose={close}
        />
      ) : null}
      {open?.kind === 'secret' ? (
        <SecretDialog created={open.created} rotated={open.rotated} baseUrl={baseUrl} model={modelFor(open.created.key)} onClose={close} />
      ) : null}
    </div>
  );
}
