import { useVirtualizer } from '@tanstack/react-virtual';
import { type KeyboardEvent, useDeferredValue, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { DEFAULT_BACKEND_NAME, type LogEntry } from '../../../../electron/shared/contract.js';
import { useI18n } from '../../i18n/context.js';
import type { PlainMessageKey, Translate } from '../../i18n/translate.js';
import { formatBytes, formatClock, formatDateTime, formatDuration, formatNumber } from '../../lib/format.js';
import { formatReason } from '../../lib/reason.js';
import { shortClientName } from './client-name.js';
import { downloadJsonLines } from './log-export.js';
import { ANONYMOUS, EMPTY_FILTER, type LogFilter, STATUS_CLASSES, filterLogs, isFiltered, logUsers, statusClassOf } from './log-filter.js';
import { type OutcomeKind, outcomeKind } from './log-outcome.js';
import type { LogStore } from './log-store.js';

const ROW_HEIGHT = 34;

export function LogsPage({ store }: { store: LogStore }) {
  const { t, locale } = useI18n();
  const live = useSyncExternalStore(store.subscribe, store.snapshot);
  const [frozen, setFrozen] = useState<readonly LogEntry[] | null>(null);
  const [filter, setFilter] = useState<LogFilter>(EMPTY_FILTER);
  const [selectedSeq, setSelectedSeq] = useState<number | null>(null);
  const entries = frozen ?? live;
  // Typing in a filter stays responsive while 10,000 rows are filtered behind it.
  const deferredFilter = useDeferredValue(filter);
  const shown = useMemo(() => filterLogs(entries, deferredFilter), [entries, deferredFilter]);
  const users = useMemo(() => logUsers(live), [live]);
  // One Ollama answers everything unless some entry names another: only then is the backend worth a column.
  const severalBackends = useMemo(() => live.some(answeredByOtherBackend), [live]);
  const waiting = frozen ? live.filter((entry) => entry.seq > (frozen.at(-1)?.seq ?? -1)).length : 0;
  const selected = selectedSeq === null ? undefined : shown.find((entry) => entry.seq === selectedSeq);

  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    // Rows have a fixed height in the stylesheet: nothing to measure, no layout to read while scrolling.
    measureElement: () => ROW_HEIGHT,
    getItemKey: (index) => shown[index]?.seq ?? index,
    overscan: 12,
    directDomUpdates: true,
  });

  const update = (patch: Partial<LogFilter>) => setFilter((current) => ({ ...current, ...patch }));

  const moveSelection = (event: KeyboardEvent<HTMLDivElement>) => {
    if (shown.length === 0) return;
    const current = selected ? shown.indexOf(selected) : -1;
    const page = Math.max(1, Math.floor((scroller.current?.clientHeight ?? ROW_HEIGHT * 10) / ROW_HEIGHT) - 1);
    const targets: Record<string, number> = {
      ArrowDown: current + 1,
      ArrowUp: current - 1,
      PageDown: current + page,
      PageUp: current - page,
      Home: 0,
      End: shown.length - 1,
    };
    if (event.key === 'Escape') {
      setSelectedSeq(null);
      return;
    }
    const target = targets[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const index = Math.min(shown.length - 1, Math.max(0, target));
    setSelectedSeq(shown[index]!.seq);
    virtualizer.scrollToIndex(index, { align: 'auto' });
  };

  return (
    <div className="page logs-page">
      <header className="page-header">
        <h1 tabIndex={-1}>{t('logs.title')}</h1>
        <div className="toolbar">
          <button type="button" className="button" aria-pressed={frozen !== null} onClick={() => setFrozen(frozen ? null : live)}>
            {frozen ? t('logs.resume') : t('logs.pause')}
          </button>
          <button type="button" className="button" disabled={shown.length === 0} onClick={() => downloadJsonLines(shown)}>
            {t('logs.export')}
          </button>
        </div>
      </header>

      <form className="filters" role="search" aria-label={t('logs.filters')} onSubmit={(event) => event.preventDefault()}>
        <label>
          <span>{t('logs.filter.user')}</span>
          <select value={filter.user} onChange={(event) => update({ user: event.target.value })}>
            <option value="">{t('logs.filter.allUsers')}</option>
            <option value={ANONYMOUS}>{t('logs.filter.anonymous')}</option>
            {users.map((user) => (
              <option key={user} value={user}>
                {user}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('logs.filter.status')}</span>
          <select value={filter.status} onChange={(event) => update({ status: event.target.value as LogFilter['status'] })}>
            {STATUS_CLASSES.map((status) => (
              <option key={status} value={status}>
                {status === 'all' ? t('logs.filter.allStatuses') : status}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('logs.filter.path')}</span>
          <input type="text" value={filter.path} placeholder="/api/chat" onChange={(event) => update({ path: event.target.value })} />
        </label>
        <label className="grow">
          <span>{t('logs.filter.text')}</span>
          <input type="search" value={filter.text} placeholder={t('logs.filter.textPlaceholder')} onChange={(event) => update({ text: event.target.value })} />
        </label>
        {isFiltered(filter) ? (
          <button type="button" className="button subtle" onClick={() => setFilter(EMPTY_FILTER)}>
            {t('logs.filter.clear')}
          </button>
        ) : null}
      </form>

      <p className="log-summary" aria-live="polite">
        {t('logs.showing', { shown: formatNumber(shown.length, locale), total: formatNumber(entries.length, locale) })}
        {frozen ? ` · ${t('logs.pausedWaiting', { count: formatNumber(waiting, locale) })}` : ''}
      </p>

      <div className={`log-body${selected ? ' with-detail' : ''}`}>
        <div className={`log-table${severalBackends ? ' with-backends' : ''}`}>
          {/* Columns give way as the list narrows (the window, or the details beside it): see app.css. */}
          <div className="log-row log-head" aria-hidden="true">
            <span className="c-time">{t('logs.col.time')}</span>
            <span className="c-outcome">{t('logs.col.status')}</span>
            <span className="c-request">{t('logs.col.request')}</span>
            <span className="c-user">{t('logs.col.user')}</span>
            <span className="c-model">{t('logs.col.model')}</span>
            {severalBackends ? <span className="c-backend">{t('logs.col.backend')}</span> : null}
            <span className="c-client">{t('logs.col.client')}</span>
            <span className="c-duration num">{t('logs.col.duration')}</span>
            <span className="c-tokens num">{t('logs.col.tokens')}</span>
          </div>
          <div
            ref={scroller}
            className="log-scroll"
            role="listbox"
            tabIndex={0}
            aria-label={t('logs.listLabel')}
            aria-activedescendant={selected ? `log-${selected.seq}` : undefined}
            onKeyDown={moveSelection}
          >
            {shown.length === 0 ? <p className="empty">{entries.length === 0 ? t('logs.empty') : t('logs.noMatch')}</p> : null}
            <div ref={virtualizer.containerRef} className="log-rows">
              {virtualizer.getVirtualItems().map((item) => {
                const entry = shown[item.index]!;
                return (
                  <div
                    key={item.key}
                    ref={virtualizer.measureElement}
                    data-index={item.index}
                    id={`log-${entry.seq}`}
                    role="option"
                    aria-selected={entry.seq === selectedSeq}
                    className={`log-row status-${statusClassOf(entry.status) ?? 'other'}${entry.seq === selectedSeq ? ' selected' : ''}`}
                    onClick={() => setSelectedSeq(entry.seq === selectedSeq ? null : entry.seq)}
                  >
                    <span className="c-time mono">{formatClock(entry.time, locale)}</span>
                    <span className="c-outcome">
                      <OutcomeBadge entry={entry} />
                    </span>
                    <span className="c-request mono" title={`${entry.method} ${entry.path}`}>
                      <span className="method">{entry.method}</span> {entry.path}
                    </span>
                    <span className="c-user">{entry.user ?? '—'}</span>
                    <span className="c-model" title={entry.model ?? undefined}>
                      {entry.model ?? '—'}
                    </span>
                    {severalBackends ? (
                      <span className="c-backend" title={backendLabel(entry.backend, t) ?? undefined}>
                        {entry.backend ?? '—'}
                      </span>
                    ) : null}
                    <span className="c-client" title={entry.client ?? undefined}>
                      {shortClientName(entry.client) ?? '—'}
                    </span>
                    <span className="c-duration num">{formatDuration(entry.durationMs, locale)}</span>
                    <span className="c-tokens num">{tokens(entry) === null ? '—' : formatNumber(tokens(entry)!, locale)}</span>
                  </div>
                );
              })}
            </div>
          </div>
        </div>
        {selected ? <LogDetail entry={selected} showBackend={severalBackends} onClose={() => setSelectedSeq(null)} /> : null}
      </div>
    </div>
  );
}

/** An Ollama other than the default answered it (or every one did: a merged model list). */
function answeredByOtherBackend(entry: LogEntry): boolean {
  return entry.backend !== null && entry.backend !== undefined && entry.backend !== DEFAULT_BACKEND_NAME;
}

/** The backend in words: `all` is explained; null when no Ollama was asked. */
function backendLabel(backend: string | null | undefined, t: Translate): string | null {
  if (backend === 'all') return t('logs.backend.all');
  return backend ?? null;
}

function tokens(entry: LogEntry): number | null {
  if (entry.promptTokens === null && entry.completionTokens === null) return null;
  return (entry.promptTokens ?? 0) + (entry.completionTokens ?? 0);
}

const OUTCOME_KEYS: Record<OutcomeKind, PlainMessageKey> = {
  completed: 'logs.outcome.completed',
  ollamaRefused: 'logs.outcome.ollamaRefused',
  gateRefused: 'logs.outcome.gateRefused',
  upstreamError: 'logs.outcome.upstreamError',
  gateError: 'logs.outcome.gateError',
  clientLeft: 'logs.outcome.clientLeft',
};

/** Small line icons: a tick, Ollama's "no" (a barred circle), the gate's shield, a warning, a door left by. */
const OUTCOME_ICONS: Record<OutcomeKind, string> = {
  completed: 'M5 12.5l4.5 4.5L19 7.5',
  ollamaRefused: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM5.6 5.6l12.8 12.8',
  gateRefused: 'M12 3l7 3v5c0 4.6-3 8.3-7 10c-4-1.7-7-5.4-7-10V6zM9 12h6',
  upstreamError: 'M12 4L2.5 20h19zM12 10v4.5M12 17.2v.3',
  gateError: 'M12 4L2.5 20h19zM12 10v4.5M12 17.2v.3',
  clientLeft: 'M14 4h5v16h-5M10 8l-4 4l4 4M6 12h10',
};

/** Who answered and how, at a glance: the label and colour say it, the status code follows. */
function OutcomeBadge({ entry }: { entry: LogEntry }) {
  const { t } = useI18n();
  const kind = outcomeKind(entry);
  const label = t(OUTCOME_KEYS[kind]);
  return (
    <span className={`outcome-badge ${kind}`} title={`${label} · ${entry.status}`}>
      <svg className="outcome-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
        <path d={OUTCOME_ICONS[kind]} />
      </svg>
      <span className="outcome-label">{label}</span>
      <span className="outcome-sep" aria-hidden="true">
        ·
      </span>
      <span className="outcome-status">{entry.status}</span>
    </span>
  );
}

/** A request's every field; `showBackend`: the log has several backends, so which one answered is said too. */
export function LogDetail({ entry, showBackend = false, onClose }: { entry: LogEntry; showBackend?: boolean; onClose: () => void }) {
  const { t, locale } = useI18n();
  const dash = '—';
  const rows: Array<[string, string]> = [
    [t('logs.detail.id'), entry.id],
    [t('logs.detail.time'), formatDateTime(entry.time, locale)],
    [t('logs.detail.request'), `${entry.method} ${entry.path}`],
    [t('logs.detail.status'), String(entry.status)],
    [t('logs.detail.outcome'), t(OUTCOME_KEYS[outcomeKind(entry)])],
    [t('logs.detail.answeredBy'), t(entry.answeredBy === 'ollama' ? 'logs.answeredBy.ollama' : 'logs.answeredBy.gate')],
    ...(showBackend ? [[t('logs.detail.backend'), backendLabel(entry.backend, t) ?? dash] as [string, string]] : []),
    [t('logs.detail.error'), formatReason(t, entry.reason, entry.error) ?? dash],
    [t('logs.detail.user'), entry.user ?? dash],
    [t('logs.detail.key'), entry.keyPrefix ? `${entry.keyPrefix}… (${entry.keySource ?? dash})` : dash],
    [t('logs.detail.ip'), entry.ip],
    // The User-Agent is whatever the client chose to send: a hint at the program, not an identity.
    [t('logs.detail.client'), entry.client ?? dash],
    [t('logs.detail.model'), entry.model ?? dash],
    [t('logs.detail.ttfb'), entry.ttfbMs === null ? dash : formatDuration(entry.ttfbMs, locale)],
    [t('logs.detail.duration'), formatDuration(entry.durationMs, locale)],
    [t('logs.detail.bytesIn'), formatBytes(entry.bytesIn, locale)],
    [t('logs.detail.bytesOut'), formatBytes(entry.bytesOut, locale)],
    [t('logs.detail.promptTokens'), entry.promptTokens === null ? dash : formatNumber(entry.promptTokens, locale)],
    [t('logs.detail.completionTokens'), entry.completionTokens === null ? dash : formatNumber(entry.completionTokens, locale)],
  ];
  return (
    <aside className="log-detail" aria-label={t('logs.detail.title')}>
      <header>
        <h2>{t('logs.detail.title')}</h2>
        <button type="button" className="button small subtle" onClick={onClose}>
          {t('common.close')}
        </button>
      </header>
      <dl>
        {rows.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {entry.requestBody ? (
        <>
          <h3>{t('logs.detail.body')}</h3>
          <pre className="code">{entry.requestBody}</pre>
        </>
      ) : null}
    </aside>
  );
}
