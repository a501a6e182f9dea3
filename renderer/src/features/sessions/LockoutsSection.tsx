import { useEffect, useId, useRef, useState } from 'react';
import type { GateApiError, LockoutView } from '../../../../electron/shared/contract.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { useToast } from '../../components/Toast.js';
import { useGate } from '../../gate.js';
import { useI18n } from '../../i18n/context.js';
import { formatDuration, formatNumber, formatRelative } from '../../lib/format.js';
import { useNow } from '../../lib/use-now.js';
import { formatHash } from '../../router.js';
import { useGateState } from '../../state.js';
import { formatCountdown, lockoutRows } from './lockouts.js';

/**
 * Addresses locked out after repeated wrong keys, with the time they have left, and those counting
 * towards it; each can be unlocked (or its count forgotten) at once. The list follows the gate's
 * `lockouts` event; a lockout's end is the clock's business, so the countdown needs no event.
 */
export function LockoutsSection() {
  const { t, locale } = useI18n();
  const gate = useGate();
  const toast = useToast();
  const { settings } = useGateState();
  const [list, setList] = useState<LockoutView[] | null>(null);
  const [error, setError] = useState<GateApiError | null>(null);
  const [pending, setPending] = useState<string | null>(null);
  const now = useNow(1_000);
  const heading = useRef<HTMLHeadingElement>(null);
  const headingId = useId();

  useEffect(() => {
    let live = true;
    // Listening before loading: a change between the two is not missed, and an event is newer than the load.
    const stop = gate.on('lockouts', (next) => setList(next));
    void gate.lockouts.list().then((result) => {
      if (!live) return;
      if (result.ok) setList((current) => current ?? result.value);
      setError(result.ok ? null : result.error);
    });
    return () => {
      live = false;
      stop();
    };
  }, [gate]);

  const proxy = settings?.proxy;
  const maxFailures = proxy?.lockoutMaxFailures ?? null;
  const rows = list ? lockoutRows(list, now, proxy?.lockoutWindowSeconds ?? 60) : null;

  const unlock = async (ip: string, locked: boolean) => {
    setPending(ip);
    const result = await gate.lockouts.unlock({ ip });
    setPending(null);
    // Not found: the lockout ended on its own meanwhile, which is what was asked.
    if (result.ok || result.error.code === 'not_found') {
      if (result.ok) toast.show(locked ? t('lockouts.unlocked', { ip }) : t('lockouts.forgotten', { ip }));
      setList((current) => current && current.filter((entry) => entry.ip !== ip));
      // The row and its button are gone: the focus goes to the section rather than to nowhere.
      heading.current?.focus();
    } else {
      toast.show(t('lockouts.unlockFailed', { ip, message: result.error.message }), 'danger');
    }
  };

  const intro =
    maxFailures === 0
      ? t('lockouts.off')
      : proxy
        ? t('lockouts.intro', {
            count: formatNumber(proxy.lockoutMaxFailures, locale),
            window: formatDuration(proxy.lockoutWindowSeconds * 1_000, locale),
            duration: formatDuration(proxy.lockoutCooldownSeconds * 1_000, locale),
          })
        : null;

  return (
    <section className="lockouts" aria-labelledby={headingId}>
      <h2 id={headingId} ref={heading} tabIndex={-1}>
        {t('lockouts.title')}
      </h2>
      {intro ? <p className="lockouts-intro">{intro}</p> : null}
      <ErrorMessage error={error} />
      {rows === null ? (
        <p className="muted">{t('common.loading')}</p>
      ) : rows.length === 0 ? (
        <div className="card empty-state lockouts-empty">
          <p>{t('lockouts.empty')}</p>
          <p>{t('lockouts.emptyHint')}</p>
          <a className="button small" href={formatHash({ page: 'settings' })}>
            {t('lockouts.settings')}
          </a>
        </div>
      ) : (
        <div className="table-wrap card flush">
          <table className="table lockouts-table">
            <caption className="offscreen">{t('lockouts.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('lockouts.col.ip')}</th>
                <th scope="col">{t('lockouts.col.state')}</th>
                <th scope="col" className="num">
                  {t('lockouts.col.left')}
                </th>
                <th scope="col" className="num">
                  {t('lockouts.col.failures')}
                </th>
                <th scope="col">{t('lockouts.col.lastFailure')}</th>
                <th scope="col">
                  <span className="offscreen">{t('keys.col.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => {
                const locked = row.remainingMs !== null;
                const countdown = locked ? formatCountdown(row.remainingMs!) : null;
                return (
                  <tr key={row.ip} className={locked ? 'locked' : undefined}>
                    <td className="mono">{row.ip}</td>
                    <td>
                      <span className={`badge ${locked ? 'danger' : 'warn'}`}>{locked ? t('lockouts.locked') : t('lockouts.counting')}</span>
                    </td>
                    <td className="num">
                      {countdown ? (
                        <span className="countdown" aria-label={t('lockouts.leftLabel', { time: countdown })}>
                          {countdown}
                        </span>
                      ) : (
                        '—'
                      )}
                    </td>
                    <td className="num">
                      {locked || maxFailures === null
                        ? formatNumber(row.failures, locale)
                        : t('lockouts.failuresOf', { count: formatNumber(row.failures, locale), max: formatNumber(maxFailures, locale) })}
                    </td>
                    <td>{formatRelative(row.lastFailureAt, Math.max(now, row.lastFailureAt), locale)}</td>
                    <td className="actions">
                      <button
                        type="button"
                        className={`button small${locked ? ' primary' : ''}`}
                        disabled={pending === row.ip}
                        aria-label={locked ? t('lockouts.unlockFor', { ip: row.ip }) : t('lockouts.resetFor', { ip: row.ip })}
                        onClick={() => void unlock(row.ip, locked)}
                      >
                        {locked ? t('lockouts.unlock') : t('lockouts.reset')}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
