import { useId, useState } from 'react';
import type { GateApiError, HealthView, ProxyStatus, ProxyTestResult } from '../../../../electron/shared/contract.js';
import { CopyButton } from '../../components/CopyButton.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { QrCode } from '../../components/QrCode.js';
import { Badge, type Tone } from '../../components/StatusBadge.js';
import { useToast } from '../../components/Toast.js';
import { useGate } from '../../gate.js';
import { useI18n } from '../../i18n/context.js';
import { formatBytes, formatDuration, formatNumber, formatRelative } from '../../lib/format.js';
import { formatReason } from '../../lib/reason.js';
import { useNow } from '../../lib/use-now.js';
import { formatHash } from '../../router.js';
import { useGateState } from '../../state.js';
import { BackendsCard } from './BackendsCard.js';
import { hasSeveralBackends } from './backend-state.js';
import { latencyChart } from './latency-chart.js';
import { type VerdictTone, describeTest } from './test-verdict.js';
import { useBackends } from './use-backends.js';
import { reachableFromLan } from './urls.js';
import { useWidth } from './use-width.js';

const CREATE_KEY = formatHash({ page: 'keys', action: 'create-key' });

export function OverviewPage() {
  const { t } = useI18n();
  const { status, health, settings, keys } = useGateState();
  const hasKeys = keys === null ? null : keys.length > 0;
  const backends = useBackends();
  // With the default Ollama alone, the page is as it always was; with more, a card lists them all.
  const several = hasSeveralBackends(backends);
  return (
    <div className="page">
      <header className="page-header">
        <h1 tabIndex={-1}>{t('overview.title')}</h1>
      </header>
      {hasKeys === false ? <FirstRunNotice /> : null}
      <div className="overview-grid">
        <ProxyCard status={status} sharedOnLan={settings ? ['0.0.0.0', '::'].includes(settings.proxy.host) : null} />
        <TestCard hasKeys={hasKeys} />
        {several ? <BackendsCard backends={backends} /> : null}
        <HealthCard health={health} several={several} />
      </div>
    </div>
  );
}

/** A gate without keys refuses everyone: said first, with the way out. */
function FirstRunNotice() {
  const { t } = useI18n();
  return (
    <section className="first-run" aria-labelledby="first-run-heading">
      <div className="first-run-text">
        <h2 id="first-run-heading">{t('overview.firstRun.title')}</h2>
        <p>{t('overview.firstRun.body')}</p>
      </div>
      <a className="button primary" href={CREATE_KEY}>
        {t('overview.firstRun.create')}
      </a>
    </section>
  );
}

function ProxyCard({ status, sharedOnLan }: { status: ProxyStatus | null; sharedOnLan: boolean | null }) {
  const { t } = useI18n();
  const gate = useGate();
  const toast = useToast();
  const { setStatus } = useGateState();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<GateApiError | null>(null);
  const toggle = async () => {
    if (!status) return;
    const stopping = status.state === 'listening';
    setBusy(true);
    const result = stopping ? await gate.proxy.stop() : await gate.proxy.start();
    setBusy(false);
    if (result.ok) {
      setStatus(result.value);
      setError(null);
      toast.show(t(stopping ? 'overview.toast.stopped' : 'overview.toast.started'));
    } else {
      setError(result.error);
      toast.show(t(stopping ? 'overview.toast.stopFailed' : 'overview.toast.startFailed', { reason: result.error.message }), 'danger');
    }
  };
  const state = status?.state;
  const tls = status?.tls;
  return (
    <section className="card proxy-card" aria-labelledby="proxy-heading">
      <header className="card-header">
        <h2 id="proxy-heading">{t('overview.proxy')}</h2>
        {/* Until the status comes, no state at all: "Stopped" for a moment would be a false alarm. */}
        <Badge tone={state === 'listening' ? 'ok' : state === 'error' ? 'danger' : 'muted'}>{state ? t(`overview.state.${state}`) : t('common.loading')}</Badge>
        <button type="button" className="button small" disabled={!status || busy} onClick={() => void toggle()}>
          {state === 'listening' ? t('overview.stop') : t('overview.start')}
        </button>
      </header>
      {status?.error ? <p className="banner error">{formatReason(t, status.reason, status.error)}</p> : null}
      <ErrorMessage error={error} />
      {!status ? null : status.urls.length > 0 ? <UrlList urls={status.urls} /> : <p className="muted">{t('overview.noUrls')}</p>}
      {tls ? (
        <div className="tls" aria-labelledby="https-heading">
          <h3 id="https-heading">{t('overview.https')}</h3>
          {tls.error ? <p className="banner error">{formatReason(t, tls.reason, tls.error)}</p> : null}
          {tls.urls.length > 0 ? <UrlList urls={tls.urls} /> : null}
          {tls.fingerprint256 ? (
            <div className="fingerprint">
              <span className="fingerprint-label">{t('overview.fingerprint')}</span>
              <code className="wrap">{tls.fingerprint256}</code>
              <CopyButton text={tls.fingerprint256} label={t('overview.fingerprint')} />
              <p className="hint">{t('overview.httpsTrust')}</p>
            </div>
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

/** The gate's addresses, each to copy; one another device can open also as a QR code for a phone. */
function UrlList({ urls }: { urls: string[] }) {
  const { t } = useI18n();
  return (
    <ul className="url-list">
      {urls.map((url) => (
        <li key={url} className="url-item">
          {reachableFromLan(url) ? <QrCode text={url} label={t('overview.qrFor', { url })} /> : null}
          <div className="url-text">
            <code>{url}</code>
            <CopyButton text={url} label={url} />
          </div>
        </li>
      ))}
    </ul>
  );
}

const RESULT_BADGE: Record<VerdictTone, Tone> = { ok: 'ok', info: 'muted', warn: 'warn', danger: 'danger' };

function TestCard({ hasKeys }: { hasKeys: boolean | null }) {
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
  const verdict = result ? describeTest(result, t) : null;
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
        <input
          id={keyId}
          type="password"
          autoComplete="off"
          value={key}
          placeholder={t('overview.testKeyPlaceholder')}
          onChange={(event) => setKey(event.target.value)}
        />
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? t('overview.testing') : t('overview.runTest')}
        </button>
      </form>
      <ErrorMessage error={error} />
      <div role="status">
        {result && verdict ? (
          <div className={`test-result ${verdict.tone}`}>
            <p className="test-headline">
              <Badge tone={RESULT_BADGE[verdict.tone]}>{result.status ?? t('overview.noAnswer')}</Badge> <strong>{verdict.headline}</strong> ·{' '}
              {formatDuration(result.durationMs, locale)}
            </p>
            {verdict.detail ? <p className="muted">{verdict.detail}</p> : null}
            {verdict.health ? <p>{verdict.health}</p> : null}
            {result.health && hasKeys === false ? (
              <p>
                {t('overview.test.noKeys')} <a href={CREATE_KEY}>{t('overview.firstRun.create')}</a>
              </p>
            ) : null}
            <p className="test-url">
              <code>GET {result.url}</code>
              {result.health ? <code>GET {result.health.url}</code> : null}
            </p>
          </div>
        ) : null}
      </div>
    </section>
  );
}

/** The default Ollama's health; `several`: other backends are in the card above, so this one says it is the default. */
function HealthCard({ health, several }: { health: HealthView | null; several: boolean }) {
  const { t, locale } = useI18n();
  const gate = useGate();
  const toast = useToast();
  const { setHealth } = useGateState();
  const [busy, setBusy] = useState(false);
  const now = useNow(5_000);
  const check = async () => {
    setBusy(true);
    const result = await gate.health.check();
    setBusy(false);
    if (!result.ok) {
      toast.show(t('overview.toast.checkFailed', { reason: result.error.message }), 'danger');
      return;
    }
    setHealth(result.value);
    const { reachable, latencyMs, reason, error } = result.value;
    if (reachable) toast.show(t('overview.toast.ollamaOk', { latency: formatDuration(latencyMs ?? 0, locale) }));
    else toast.show(t('overview.toast.ollamaDown', { reason: formatReason(t, reason, error ?? '') }), 'danger');
  };
  return (
    <section className="card health-card" aria-labelledby="health-heading">
      <header className="card-header">
        <h2 id="health-heading">{several ? t('overview.ollamaDefault') : t('overview.ollama')}</h2>
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
          {health.error ? <p className="banner error">{formatReason(t, health.reason, health.error)}</p> : null}
          {health.exposedOn.length > 0 ? <p className="banner warn">{t('overview.exposed', { addresses: health.exposedOn.join(', ') })}</p> : null}
          <LatencyChartView health={health} now={Math.max(now, health.checkedAt)} />
          <h3>{t('overview.installed', { count: formatNumber(health.models.length, locale) })}</h3>
          {health.models.length === 0 ? (
            <p className="muted">{t('overview.noModels')}</p>
          ) : (
            // Narrow, the parameters and quantization columns fold away (app.css) rather than scroll.
            <div className="table-wrap">
              <table className="table models-table">
                <thead>
                  <tr>
                    <th scope="col">{t('overview.model')}</th>
                    <th scope="col" className="col-params">
                      {t('overview.parameters')}
                    </th>
                    <th scope="col" className="col-quant">
                      {t('overview.quantization')}
                    </th>
                    <th scope="col" className="num">
                      {t('overview.size')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {health.models.map((model) => (
                    <tr key={model.name}>
                      <td className="mono model-name">{model.name}</td>
                      <td className="col-params">{model.parameterSize ?? '—'}</td>
                      <td className="col-quant">{model.quantization ?? '—'}</td>
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
              <table className="table models-table">
                <thead>
                  <tr>
                    <th scope="col">{t('overview.model')}</th>
                    <th scope="col" className="num">
                      {t('overview.size')}
                    </th>
                    <th scope="col" className="num col-vram">
                      {t('overview.vram')}
                    </th>
                    <th scope="col">{t('overview.unloads')}</th>
                  </tr>
                </thead>
                <tbody>
                  {health.loaded.map((model) => (
                    <tr key={model.name}>
                      <td className="mono model-name">{model.name}</td>
                      <td className="num">{formatBytes(model.size, locale)}</td>
                      <td className="num col-vram">{formatBytes(model.sizeVram, locale)}</td>
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

/** The chart is drawn at the width its card gives it, so its lines and labels keep their size. */
function LatencyChartView({ health, now }: { health: HealthView; now: number }) {
  const { t, locale } = useI18n();
  const [figure, width] = useWidth<HTMLElement>(520);
  const chart = latencyChart(health.latency, { now, width, height: 132 });
  const { plot } = chart;
  return (
    <figure className="chart latency-chart" ref={figure}>
      <svg width={chart.width} height={chart.height} viewBox={`0 0 ${chart.width} ${chart.height}`} role="img" aria-label={t('overview.latencyChart')}>
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
