import { useCallback, useEffect, useMemo, useState } from 'react';
import type { GateApiError, UsageRow } from '../../../../electron/shared/contract.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { useGate } from '../../gate.js';
import { useI18n } from '../../i18n/context.js';
import { formatBytes, formatCompact, formatDate, formatNumber } from '../../lib/format.js';
import { useGateState } from '../../state.js';
import { type UsageMetric, backendTotals, metricOf, totalsByKey, usageChart, usageDays } from './usage-chart.js';

const RANGES = [7, 30, 90] as const;
/** After new requests, the usage is read again at most this often. */
const RELOAD_MS = 2_000;

export function UsagePage() {
  const { t, locale } = useI18n();
  const gate = useGate();
  const { keys } = useGateState();
  const [range, setRange] = useState<(typeof RANGES)[number]>(30);
  const [metric, setMetric] = useState<UsageMetric>('requests');
  const [keyId, setKeyId] = useState('');
  const [rows, setRows] = useState<UsageRow[] | null>(null);
  const [error, setError] = useState<GateApiError | null>(null);
  const [today, setToday] = useState(() => Date.now());

  const days = useMemo(() => usageDays(today, range), [today, range]);
  const load = useCallback(async () => {
    // Only a new day changes `today`: a new timestamp on every load would make new `days`, a new
    // `load` and so another load, without end.
    const now = Date.now();
    setToday((current) => (sameUtcDay(current, now) ? current : now));
    const result = await gate.usage.query({ since: days[0]!, ...(keyId ? { keyId } : {}) });
    if (result.ok) setRows(result.value);
    setError(result.ok ? null : result.error);
  }, [gate, days, keyId]);

  useEffect(() => {
    void load();
  }, [load]);
  useEffect(() => {
    // Usage grows with every finished request: follow the log, without reloading on every batch.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = gate.on('logs', () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        void load();
      }, RELOAD_MS);
    });
    return () => {
      stop();
      clearTimeout(timer);
    };
  }, [gate, load]);

  const totals = useMemo(() => totalsByKey(rows ?? []), [rows]);
  const series = useMemo(() => totals.map((total) => total.keyId), [totals]);
  const chart = useMemo(() => usageChart(rows ?? [], { days, metric, series, width: 720, height: 220 }), [rows, days, metric, series]);
  // Requests by the backend that answered them, worth showing only when more than one did.
  const byBackend = useMemo(() => backendTotals(rows ?? []), [rows]);
  const severalBackends = byBackend.length > 1;
  const prefix = (id: string) => keys?.find((key) => key.id === id)?.prefix;
  const dayLabel = (day: string) => formatDate(Date.parse(`${day}T12:00:00Z`), locale);

  return (
    <div className="page">
      <header className="page-header">
        <h1 tabIndex={-1}>{t('usage.title')}</h1>
        <div className="toolbar filters compact">
          <label>
            <span>{t('usage.range')}</span>
            <select value={range} onChange={(event) => setRange(Number(event.target.value) as (typeof RANGES)[number])}>
              {RANGES.map((days) => (
                <option key={days} value={days}>
                  {t('usage.lastDays', { days })}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span>{t('usage.metric')}</span>
            <select value={metric} onChange={(event) => setMetric(event.target.value as UsageMetric)}>
              <option value="requests">{t('usage.requests')}</option>
              <option value="tokens">{t('usage.tokens')}</option>
            </select>
          </label>
          <label>
            <span>{t('usage.key')}</span>
            <select value={keyId} onChange={(event) => setKeyId(event.target.value)}>
              <option value="">{t('usage.allKeys')}</option>
              {(keys ?? []).map((key) => (
                <option key={key.id} value={key.id}>
                  {key.user} ({key.prefix}…)
                </option>
              ))}
            </select>
          </label>
        </div>
      </header>
      <ErrorMessage error={error} />
      <section className="card" aria-labelledby="usage-chart-heading">
        <h2 id="usage-chart-heading">{metric === 'requests' ? t('usage.chartRequests') : t('usage.chartTokens')}</h2>
        <figure className="chart usage-chart">
          <svg viewBox={`0 0 ${chart.width} ${chart.height}`} role="img" aria-label={metric === 'requests' ? t('usage.chartRequests') : t('usage.chartTokens')}>
            {chart.ticks.map((tick) => (
              <g key={tick.value} className="grid">
                <line x1={chart.plot.left} x2={chart.plot.right} y1={tick.y} y2={tick.y} />
                <text x={chart.plot.left - 6} y={tick.y + 4} textAnchor="end">
                  {formatCompact(tick.value, locale)}
                </text>
              </g>
            ))}
            {chart.bars.map((bar) => (
              <g key={bar.day}>
                <title>{`${dayLabel(bar.day)}: ${formatNumber(bar.total, locale)}`}</title>
                {bar.segments.map((segment) => (
                  <rect key={segment.keyId} className={`bar series-${segment.series}`} x={bar.x} y={segment.y} width={bar.width} height={segment.height} />
                ))}
              </g>
            ))}
            {chart.labels.map((label) => (
              <text key={label.day} className="axis-label" x={label.x} y={chart.height - 6} textAnchor="middle">
                {label.day.slice(5)}
              </text>
            ))}
          </svg>
          {totals.length > 0 ? (
            <figcaption>
              <ul className="legend">
                {totals.map((total, index) => (
                  <li key={total.keyId}>
                    <span className={`swatch series-${index % 8}`} aria-hidden="true" />
                    {total.user}
                    {prefix(total.keyId) ? <code className="muted">{prefix(total.keyId)}…</code> : null}
                  </li>
                ))}
              </ul>
            </figcaption>
          ) : (
            <figcaption className="muted">{t('usage.empty')}</figcaption>
          )}
        </figure>
      </section>

      <section className="card flush" aria-labelledby="usage-keys-heading">
        <h2 id="usage-keys-heading" className="padded">
          {t('usage.perKey')}
        </h2>
        <UsageTable rows={totals.map((total) => ({ ...total, id: total.keyId, day: null }))} prefix={prefix} showBackends={severalBackends} />
      </section>

      {severalBackends ? <BackendUsage totals={byBackend} /> : null}

      {/* With a day column too, the bytes fold away in a narrow window rather than scroll sideways. */}
      <section className="card flush usage-fold" aria-labelledby="usage-days-heading">
        <h2 id="usage-days-heading" className="padded">
          {t('usage.perDay')}
        </h2>
        <UsageTable
          rows={[...(rows ?? [])]
            .sort((a, b) => b.day.localeCompare(a.day) || metricOf(b, metric) - metricOf(a, metric))
            .map((row) => ({ ...row, id: `${row.day}/${row.keyId}` }))}
          prefix={prefix}
          dayLabel={dayLabel}
          showBackends={severalBackends}
        />
      </section>
    </div>
  );
}

/** Each backend's requests over the range, and its share of them, as a table with a bar per row. */
function BackendUsage({ totals }: { totals: ReadonlyArray<{ name: string; requests: number }> }) {
  const { t, locale } = useI18n();
  const sum = totals.reduce((total, backend) => total + backend.requests, 0);
  const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 });
  return (
    <section className="card flush" aria-labelledby="usage-backends-heading">
      <h2 id="usage-backends-heading" className="padded">
        {t('usage.byBackend')}
      </h2>
      <p className="hint padded usage-backends-hint">{t('usage.byBackendHint')}</p>
      <div className="table-wrap">
        <table className="table usage-backends">
          <thead>
            <tr>
              <th scope="col">{t('usage.col.backend')}</th>
              <th scope="col" className="num">
                {t('usage.col.requests')}
              </th>
              <th scope="col" className="col-share">
                {t('usage.col.share')}
              </th>
            </tr>
          </thead>
          <tbody>
            {totals.map((backend) => {
              const share = sum > 0 ? backend.requests / sum : 0;
              return (
                <tr key={backend.name}>
                  <td className="mono">{backend.name}</td>
                  <td className="num">{formatNumber(backend.requests, locale)}</td>
                  <td className="col-share">
                    <span className="share">
                      <svg className="share-bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">
                        <rect className="share-track" width="100" height="8" rx="2" />
                        <rect className="share-fill" width={Math.max(share * 100, share > 0 ? 1 : 0)} height="8" rx="2" />
                      </svg>
                      <span className="share-value">{percent.format(share)}</span>
                    </span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** `default 12 · big 3`: the default first, then the busiest. */
function backendSplit(backends: Record<string, number> | undefined, locale: string): string {
  return backendTotals([{ backends: backends ?? {} }])
    .map((backend) => `${backend.name} ${formatNumber(backend.requests, locale)}`)
    .join(' · ');
}

function UsageTable({
  rows,
  prefix,
  dayLabel,
  showBackends = false,
}: {
  rows: Array<Omit<UsageRow, 'day'> & { id: string; day: string | null }>;
  prefix: (keyId: string) => string | undefined;
  dayLabel?: (day: string) => string;
  /** under each user, how many of the requests each backend answered */
  showBackends?: boolean;
}) {
  const { t, locale } = useI18n();
  if (rows.length === 0) return <p className="muted padded">{t('usage.empty')}</p>;
  return (
    <div className="table-wrap">
      <table className="table">
        <thead>
          <tr>
            {dayLabel ? <th scope="col">{t('usage.col.day')}</th> : null}
            <th scope="col">{t('usage.col.user')}</th>
            <th scope="col" className="num">
              {t('usage.col.requests')}
            </th>
            <th scope="col" className="num">
              {t('usage.col.errors')}
            </th>
            <th scope="col" className="num">
              {t('usage.col.promptTokens')}
            </th>
            <th scope="col" className="num">
              {t('usage.col.completionTokens')}
            </th>
            <th scope="col" className="num col-bytes">
              {t('usage.col.bytesIn')}
            </th>
            <th scope="col" className="num col-bytes">
              {t('usage.col.bytesOut')}
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id}>
              {dayLabel && row.day ? <td>{dayLabel(row.day)}</td> : null}
              <td>
                {row.user}
                {prefix(row.keyId) ? (
                  <>
                    {' '}
                    <code className="muted small">{prefix(row.keyId)}…</code>
                  </>
                ) : null}
                {showBackends && Object.keys(row.backends ?? {}).length > 0 ? (
                  <div className="backend-split muted small">{t('usage.viaBackends', { list: backendSplit(row.backends, locale) })}</div>
                ) : null}
              </td>
              <td className="num">{formatNumber(row.requests, locale)}</td>
              <td className="num">{formatNumber(row.errors, locale)}</td>
              <td className="num">{formatNumber(row.promptTokens, locale)}</td>
              <td className="num">{formatNumber(row.completionTokens, locale)}</td>
              <td className="num col-bytes">{formatBytes(row.bytesIn, locale)}</td>
              <td className="num col-bytes">{formatBytes(row.bytesOut, locale)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function sameUtcDay(a: number, b: number): boolean {
  return Math.floor(a / 86_400_000) === Math.floor(b / 86_400_000);
}
