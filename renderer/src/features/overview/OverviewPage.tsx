import { useId, useState } from 'react';
import type { GateApiError, HealthView, ProxyStatus, ProxyTestResult } from '../../../../electron/shared/contract.js';
import { CopyButton } from '../../components/CopyButton.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { QrCode } from '../../components/QrCode.js';
import { Badge } from '../../components/StatusBadge.js';
import { useGate } from '../../gate.js';
import { useI18n } from '../../i18n/context.js';
import type { PlainMessageKey } from '../../i18n/translate.js';
import { formatBytes, formatDuration, formatNumber, formatRelative } from '../../lib/format.js';
import { useNow } from '../../lib/use-now.js';
import { useGateState } from '../../state.js';
import { latencyChart } from './latency-chart.js';

export function OverviewPage() {
  const { t } = useI18n();
  const { status, health, settings } = useGateState();
  return (
    <div className="page">
      <header className="page-header">
        <h1 tabIndex={-1}>{t('overview.title')}</h1>
      </header>
      <div className="overview-grid">
        <ProxyCard status={status} sharedOnLan={settings ? ['0.0.0.0', '::'].includes(settings.proxy.host) : null} />
        <TestCard />
        <HealthCard health={health} />
      </div>
    </div>
  );
}

function ProxyCard({ status, sharedOnLan }: { status: ProxyStatus | null; sharedOnLan: boolean | null }) {
  const { t } = useI18n();
  const gate = useGate();
  const { setStatus } = useGateState();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<GateApiError | null>(null);
  const toggle = async () => {
    if (!status) return;
    setBusy(true);
    const result = status.state === 'listening' ? await gate.proxy.stop() : await gate.proxy.start();
    setBusy(false);
    if (result.ok) {
      setStatus(result.value);
      setError(null);
    } else setError(result.error);
  };
  const state = status?.state ?? 'stopped';
  return (
    <section className="card proxy-card" aria-labelledby="proxy-heading">
      <header className="card-header">
        <h2 id="proxy-heading">{t('overview.proxy')}</h2>
        <Badge tone={state === 'listening' ? 'ok' : state === 'error' ? 'danger' : 'muted'}>{t(`overview.state.${state}`)}</Badge>
        <button type="button" className="button small" disabled={!status || busy} onClick={() => void toggle()}>
          {state === 'listening' ? t('overview.stop') : t('overview.start')}
        </button>
      </header>
      {status?.error ? <p className="banner error">{status.error}</p> : null}
      <ErrorMessage error={error} />
      {status && status.urls.length > 0 ? (
        <ul className="url-list">
          {status.urls.map((url) => (
            <li key={url} className="url-item">
              <QrCode text={url} label={t('overview.qrFor', { url })} />
              <div className="url-text">
                <code>{url}</code>
                <CopyButton text={url} label={url} />
              </div>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">{t('overview.noUrls')}</p>
      )}
      {status?.tls ? (
        <div className="tls">
          <h3>{t('overview.https')}</h3>
          {status.tls.error ? <p className="banner error">{status.tls.error}</p> : null}
          {status.tls.urls.map((url) => (
            <div key={url} className="url-text">
              <code>{url}</code>
              <CopyButton text={url} label={url} />
            </div>
          ))}
          {status.tls.fingerprint256 ? (
            <p className="hint">
              {t('overview.fingerprint')} <code className="wrap">{status.tls.fingerprint256}</code>
            </p>
          ) : null}
        </div>
      ) : null}
      {sharedOnLan === false ? (
        <p className="hint">
          {t('overview.localOnly')} <a href="#/settings">{t('overview.shareOnLanLink')}</a>
        </p>
      ) : null}
    </section>
  );
}

function TestCard() {
  const { t, locale } = useI18n();
  const gate = useGate();
  const keyId = useId();
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ProxyTestResult | null>(null);
  const [error, setError] = useState<GateApiError | null>(null);
  const run = async () => {
    setBusy(true);
    const answer = await gate.proxy.test(key.trim() ? { key: key.trim() } : undefined);
    setBusy(false);
    if (answer.ok) {
      setResult(answer.value);
      setError(null);
    } else setError(answer.error);
  };
  const passed = result?.status !== null && result !== null && result.status < 400;
  return (
    <section className="card test-card" aria-labelledby="test-heading">
      <header className="card-header">
        <h2 id="test-heading">{t('overview.test')}</h2>
      </header>
      <p className="hint">{t('overview.testHint')}</p>
      <form
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void run();
        }}
      >
        <label htmlFor={keyId}>{t('overview.testKey')}</label>
        <input id={keyId} type="password" autoComplete="off" value={key} placeholder={t('overview.testKeyPlaceholder')} onChange={(event) => setKey(event.target.value)} />
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? t('overview.testing') : t('overview.runTest')}
        </button>
      </form>
      <ErrorMessage error={error} />
      {result ? (
        <div className={`test-result ${passed ? 'ok' : 'failed'}`} role="status">
          <p>
            <Badge tone={passed ? 'ok' : 'danger'}>{result.status ?? t('overview.noAnswer')}</Badge> <strong>{t(testVerdict(result.status))}</strong> · {formatDuration(result.durationMs, locale)}
          </p>
          <p className="muted">
            <code>{result.url}</code> {result.detail}
          </p>
        </div>
      ) : null}
    </section>
  );
}

/** The test's outcome in the window's language; the gate's own words follow it. */
export function testVerdict(status: number | null): PlainMessageKey {
  if (status === null) return 'overview.verdict.unreachable';
  if (status < 400) return 'overview.verdict.passed';
  if (status === 401) return 'overview.verdict.noKey';
  if (status === 403) return 'overview.verdict.refused';
  if (status === 429) return 'overview.verdict.limited';
  if (status >= 500) return 'overview.verdict.ollama';
  return 'overview.verdict.failed';
}

function HealthCard({ health }: { health: HealthView | null }) {
  const { t, locale } = useI18n();
  const gate = useGate();
  const { setHealth } = useGateState();
  const [busy, setBusy] = useState(false);
  const now = useNow(5_000);
  const check = async () => {
    setBusy(true);
    const result = await gate.health.check();
    setBusy(false);
    if (result.ok) setHealth(result.value);
  };
  return (
    <section className="card health-card" aria-labelledby="health-heading">
      <header className="card-header">
        <h2 id="health-heading">{t('overview.ollama')}</h2>
        {health ? <Badge tone={health.reachable ? 'ok' : 'danger'}>{health.reachable ? t('overview.reachable') : t('overview.unreachable')}</Badge> : null}
        <button type="button" className="button small" disabled={busy} onClick={() => void check()}>
          {t('overview.checkNow')}
        </button>
      </header>
      {!health ? (
        <p className="muted">{t('common.loading')}</p>
      ) : (
        <>
          <dl className="facts">
            <div>
              <dt>{t('overview.upstream')}</dt>
              <dd>
                <code>{health.upstream}</code>
              </dd>
            </div>
            <div>
              <dt>{t('overview.version')}</dt>
              <dd>{health.version ?? '—'}</dd>
            </div>
            <div>
              <dt>{t('overview.latency')}</dt>
              <dd>{health.latencyMs === null ? '—' : formatDuration(health.latencyMs, locale)}</dd>
            </div>
            <div>
              <dt>{t('overview.checked')}</dt>
              <dd>{formatRelative(health.checkedAt, Math.max(now, health.checkedAt), locale)}</dd>
            </div>
          </dl>
          {health.error ? <p className="banner error">{health.error}</p> : null}
          {health.exposedOn.length > 0 ? <p className="banner warn">{t('overview.exposed', { addresses: health.exposedOn.join(', ') })}</p> : null}
          <LatencyChartView health={health} now={Math.max(now, health.checkedAt)} />
          <h3>{t('overview.installed', { count: formatNumber(health.models.length, locale) })}</h3>
          {health.models.length === 0 ? (
            <p className="muted">{t('overview.noModels')}</p>
          ) : (
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">{t('overview.model')}</th>
                    <th scope="col">{t('overview.parameters')}</th>
                    <th scope="col">{t('overview.quantization')}</th>
                    <th scope="col" className="num">
                      {t('overview.size')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {health.models.map((model) => (
                    <tr key={model.name}>
                      <td className="mono">{model.name}</td>
                      <td>{model.parameterSize ?? '—'}</td>
                      <td>{model.quantization ?? '—'}</td>
                      <td className="num">{formatBytes(model.size, locale)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h3>{t('overview.loaded', { count: formatNumber(health.loaded.length, locale) })}</h3>
          {health.loaded.length === 0 ? (
            <p className="muted">{t('overview.noneLoaded')}</p>
          ) : (
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">{t('overview.model')}</th>
                    <th scope="col" className="num">
                      {t('overview.size')}
                    </th>
                    <th scope="col" className="num">
                      {t('overview.vram')}
                    </th>
                    <th scope="col">{t('overview.unloads')}</th>
                  </tr>
                </thead>
                <tbody>
                  {health.loaded.map((model) => (
                    <tr key={model.name}>
                      <td className="mono">{model.name}</td>
                      <td className="num">{formatBytes(model.size, locale)}</td>
                      <td className="num">{formatBytes(model.sizeVram, locale)}</td>
                      <td>{model.expiresAt ? formatRelative(Date.parse(model.expiresAt), now, locale) : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}

function LatencyChartView({ health, now }: { health: HealthView; now: number }) {
  const { t, locale } = useI18n();
  const chart = latencyChart(health.latency, { now, width: 520, height: 132 });
  const { plot } = chart;
  return (
    <figure className="chart latency-chart">
      <svg viewBox={`0 0 ${chart.width} ${chart.height}`} role="img" aria-label={t('overview.latencyChart')}>
        {chart.ticks.map((tick) => (
          <g key={tick.value} className="grid">
            <line x1={plot.left} x2={plot.right} y1={tick.y} y2={tick.y} />
            <text x={plot.left - 6} y={tick.y + 4} textAnchor="end">
              {formatNumber(tick.value, locale)}
            </text>
          </g>
        ))}
        {chart.lines.map((points) => (
          <polyline key={points} className="series-line" points={points} />
        ))}
        {chart.points.map((point) => (
          <circle key={`${point.x},${point.y}`} className="series-dot" cx={point.x} cy={point.y} r={2.5} />
        ))}
        {chart.failures.map((x) => (
          <line key={x} className="failure" x1={x} x2={x} y1={plot.top} y2={plot.bottom} />
        ))}
        <text className="axis-label" x={plot.left} y={chart.height - 4}>
          {t('overview.minutesAgo', { minutes: 10 })}
        </text>
        <text className="axis-label" x={plot.right} y={chart.height - 4} textAnchor="end">
          {t('overview.nowLabel')}
        </text>
      </svg>
      <figcaption className="hint">{t('overview.latencyCaption')}</figcaption>
    </figure>
  );
}
