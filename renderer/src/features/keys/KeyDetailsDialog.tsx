import type { ReactNode } from 'react';
import type { KeyView } from '../../../../electron/shared/contract.js';
import { Dialog } from '../../components/Dialog.js';
import { Badge } from '../../components/StatusBadge.js';
import { useI18n } from '../../i18n/context.js';
import { formatDateTime, formatNumber, formatRelative } from '../../lib/format.js';

export type KeyAction = 'edit' | 'rotate' | 'connect' | 'delete';

/** Everything about one key, with what can be done to it; the table shows only a summary. */
export function KeyDetailsDialog({
  keyView: key,
  now,
  onAction,
  onClose,
}: {
  keyView: KeyView;
  now: number;
  onAction: (action: KeyAction) => void;
  onClose: () => void;
}) {
  const { t, locale } = useI18n();
  const limit = (value: number | null) => (value === null ? <span className="muted">{t('keys.noLimit')}</span> : formatNumber(value, locale));
  const rows: Array<[string, ReactNode]> = [
    [t('keys.field.user'), <strong className="breakable">{key.user}</strong>],
    [t('keys.field.name'), key.name ? <span className="breakable">{key.name}</span> : <span className="muted">—</span>],
    [t('keys.col.key'), <code>{key.prefix}…</code>],
    [
      t('keys.status'),
      key.expired ? (
        <Badge tone="danger">{t('keys.expired')}</Badge>
      ) : key.enabled ? (
        <Badge tone="ok">{t('keys.status.enabled')}</Badge>
      ) : (
        <Badge tone="muted">{t('keys.status.disabled')}</Badge>
      ),
    ],
    [
      t('keys.field.scope'),
      <>
        <Badge tone={key.scope === 'full' ? 'warn' : 'muted'}>{key.scope === 'full' ? t('keys.scope.full') : t('keys.scope.inference')}</Badge>{' '}
        <span className="muted">{key.scope === 'full' ? t('keys.scope.fullHint') : t('keys.scope.inferenceHint')}</span>
      </>,
    ],
    [
      t('keys.field.models'),
      key.models.length ? (
        <ul className="chips wrap">
          {key.models.map((model) => (
            <li key={model}>
              <code>{model}</code>
            </li>
          ))}
        </ul>
      ) : (
        <span className="muted">{t('keys.everyModel')}</span>
      ),
    ],
    [t('keys.field.rpm'), limit(key.rpm)],
    [t('keys.field.concurrency'), limit(key.concurrency)],
    [t('keys.field.dailyTokens'), limit(key.dailyTokens)],
    [
      t('keys.col.expires'),
      key.expiresAt === null ? (
        <span className="muted">{t('keys.never')}</span>
      ) : (
        `${formatDateTime(key.expiresAt, locale)} (${formatRelative(key.expiresAt, now, locale)})`
      ),
    ],
    [t('keys.col.created'), formatDateTime(key.createdAt, locale)],
    [
      t('keys.col.lastUsed'),
      key.lastUsedAt === null ? (
        <span className="muted">{t('keys.never')}</span>
      ) : (
        `${formatDateTime(key.lastUsedAt, locale)} (${formatRelative(key.lastUsedAt, Math.max(now, key.lastUsedAt), locale)})${key.lastUsedIp ? ` · ${key.lastUsedIp}` : ''}`
      ),
    ],
    [
      t('keys.col.today'),
      `${t('keys.todayRequests', { count: formatNumber(key.today.requests, locale) })} · ${t('keys.todayTokens', { count: formatNumber(key.today.tokens, locale) })}`,
    ],
  ];
  return (
    <Dialog title={t('keys.detailsTitle', { user: key.user })} onClose={onClose}>
      <dl className="key-details">
        {rows.map(([term, value]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <div className="dialog-actions spread sticky">
        <button type="button" className="button danger" onClick={() => onAction('delete')}>
          {t('common.delete')}…
        </button>
        <span className="spacer" />
        <button type="button" className="button" onClick={() => onAction('connect')}>
          {t('keys.connect')}
        </button>
        <button type="button" className="button" onClick={() => onAction('rotate')}>
          {t('keys.rotate')}…
        </button>
        <button type="button" className="button" onClick={() => onAction('edit')}>
          {t('common.edit')}
        </button>
        <button type="button" className="button primary" onClick={onClose} autoFocus>
          {t('common.close')}
        </button>
      </div>
    </Dialog>
  );
}
