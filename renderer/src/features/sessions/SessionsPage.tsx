import { useCallback, useEffect, useState } from 'react';
import type { GateApiError, SessionView } from '../../../../electron/shared/contract.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { useGate } from '../../gate.js';
import { useI18n } from '../../i18n/context.js';
import { formatDuration, formatNumber, formatRelative } from '../../lib/format.js';
import { useNow } from '../../lib/use-now.js';
import { useGateState } from '../../state.js';
import { preferredBaseUrl, shellQuote } from '../keys/snippets.js';
import { LockoutsSection } from './LockoutsSection.js';
import { sessionRows } from './sessions.js';

/** Sessions change without an event (every request renews one): the page looks again this often. */
const REFRESH_MS = 2_000;

export function SessionsPage() {
  const { t, locale } = useI18n();
  const gate = useGate();
  const { keys, status, settings } = useGateState();
  const [sessions, setSessions] = useState<SessionView[] | null>(null);
  const [error, setError] = useState<GateApiError | null>(null);
  const now = useNow(1_000);

  const load = useCallback(async () => {
    const result = await gate.sessions.list();
    if (result.ok) setSessions(result.value);
    setError(result.ok ? null : result.error);
  }, [gate]);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    // A key disabled or removed ends its sessions at once.
    const stop = gate.on('keys', () => void load());
    return () => {
      clearInterval(timer);
      stop();
    };
  }, [gate, load]);

  const revoke = async (ip: string) => {
    const result = await gate.sessions.revoke({ ip });
    if (!result.ok && result.error.code !== 'not_found') setError(result.error);
    await load();
  };

  const ttl = settings?.proxy.sessionTtlSeconds ?? null;
  const perKey = settings?.proxy.maxSessionsPerKey ?? null;
  const example = `curl -X POST ${shellQuote(`${preferredBaseUrl(status?.urls ?? [], settings?.proxy.port ?? 8000)}/auth`)} -d '{"api_key": "YOUR_KEY"}'`;
  const rows = sessions ? sessionRows(sessions, keys, now) : null;

  return (
    <div className="page">
      <header className="page-header">
        <h1 tabIndex={-1}>{t('sessions.title')}</h1>
      </header>
      <section className="sessions-trusted" aria-labelledby="sessions-trusted">
        <h2 id="sessions-trusted">{t('sessions.caption')}</h2>
        <p className="lead">
          {ttl === 0 ? t('sessions.off') : t('sessions.intro', { duration: formatDuration((ttl ?? 3600) * 1_000, locale) })}
          {/* Chinese runs sentences together; English puts a space between them. */}
          {ttl !== 0 && perKey !== null
            ? `${locale === 'zh-CN' ? '' : ' '}${perKey === 1 ? t('sessions.perKeyOne') : t('sessions.perKey', { count: formatNumber(perKey, locale) })}`
            : null}
        </p>
        <ErrorMessage error={error} />
        {rows === null ? (
          <p className="muted">{t('common.loading')}</p>
        ) : rows.length === 0 ? (
          <div className="card empty-state">
            <p>{t('sessions.empty')}</p>
            <pre className="code">{example}</pre>
          </div>
        ) : (
          <div className="table-wrap card flush">
            <table className="table">
              <caption className="offscreen">{t('sessions.caption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('sessions.col.ip')}</th>
                  <th scope="col">{t('sessions.col.user')}</th>
                  <th scope="col">{t('sessions.col.key')}</th>
                  <th scope="col">{t('sessions.col.age')}</th>
                  <th scope="col">{t('sessions.col.lastSeen')}</th>
                  <th scope="col">{t('sessions.col.expires')}</th>
                  <th scope="col">
                    <span className="offscreen">{t('keys.col.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={row.ip}>
                    <td className="mono">{row.ip}</td>
                    <td>{row.user}</td>
                    <td>{row.keyPrefix ? <code>{row.keyPrefix}…</code> : '—'}</td>
                    <td>{formatRelative(row.createdAt, Math.max(now, row.createdAt), locale)}</td>
                    <td>{formatRelative(row.lastSeenAt, Math.max(now, row.lastSeenAt), locale)}</td>
                    <td>{formatRelative(row.expiresAt, now, locale)}</td>
                    <td className="actions">
                      <button
                        type="button"
                        className="button small danger"
                        aria-label={t('sessions.revokeFor', { ip: row.ip })}
                        onClick={() => void revoke(row.ip)}
                      >
                        {t('sessions.revoke')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <LockoutsSection />
    </div>
  );
}
