import { useId } from 'react';
import type { BackendView } from '../../../../electron/shared/contract.js';
import { Badge, type Tone } from '../../components/StatusBadge.js';
import { useI18n } from '../../i18n/context.js';
import { formatNumber } from '../../lib/format.js';
import { formatReason } from '../../lib/reason.js';
import { type BackendState, backendState } from './backend-state.js';

const STATE_TONES: Record<BackendState, Tone> = { up: 'ok', down: 'danger', skipped: 'warn', disabled: 'muted', checking: 'muted' };

/**
 * Every Ollama behind the gate, the default first, each with its state (and why, when it is down),
 * its version, its models and its load. Shown only when there is more than the default.
 */
export function BackendsCard({ backends }: { backends: readonly BackendView[] }) {
  const { t, locale } = useI18n();
  const enabled = backends.filter((backend) => backend.enabled);
  const up = enabled.filter((backend) => backendState(backend) === 'up').length;
  return (
    <section className="card backends-card" aria-labelledby="backends-heading">
      <header className="card-header">
        <h2 id="backends-heading">{t('overview.backends')}</h2>
        <Badge tone={up === enabled.length ? 'ok' : up === 0 ? 'danger' : 'warn'}>
          {t('overview.backendsUp', { up: formatNumber(up, locale), total: formatNumber(enabled.length, locale) })}
        </Badge>
        <a className="button small subtle" href="#/settings">
          {t('overview.backendsManage')}
        </a>
      </header>
      <p className="hint">{t('overview.backendsHint')}</p>
      <ul className="backend-tiles">
        {backends.map((backend) => (
          <BackendTile key={backend.name} backend={backend} />
        ))}
      </ul>
    </section>
  );
}

function BackendTile({ backend }: { backend: BackendView }) {
  const { t, locale } = useI18n();
  const state = backendState(backend);
  const { health } = backend;
  /** what it has loaded and installed is worth showing while it answers (a down one's last lists are stale) */
  const answers = state === 'up' || state === 'skipped';
  const headingId = useId();
  const dash = '—';
  return (
    <li className={`backend-tile ${state}`} aria-labelledby={headingId}>
      <div className="backend-tile-head">
        <h3 id={headingId} className="mono">
          {backend.name}
        </h3>
        <Badge tone={STATE_TONES[state]}>{t(`overview.backend.state.${state}`)}</Badge>
      </div>
      <code className="backend-tile-url">{backend.url}</code>
      {state === 'down' && health ? <p className="banner error">{formatReason(t, health.reason, health.error ?? '')}</p> : null}
      {state === 'skipped' ? <p className="banner warn">{t('overview.backend.skippedHint')}</p> : null}
      {state === 'disabled' ? <p className="hint">{t('overview.backend.disabledHint')}</p> : null}
      {health?.exposedOn.length ? <p className="banner warn">{t('overview.exposed', { addresses: health.exposedOn.join(', ') })}</p> : null}
      <dl className="facts backend-facts">
        <div>
          <dt>{t('overview.version')}</dt>
          <dd>{health?.version ?? dash}</dd>
        </div>
        <div>
          <dt>{t('overview.backend.models')}</dt>
          <dd>{health && answers ? formatNumber(health.models.length, locale) : dash}</dd>
        </div>
        <div>
          <dt>{t('overview.backend.inFlight')}</dt>
          <dd>{formatNumber(backend.inFlight, locale)}</dd>
        </div>
        <div>
          <dt>{t('overview.backend.weight')}</dt>
          <dd>{formatNumber(backend.weight, locale)}</dd>
        </div>
      </dl>
      {/* What a backend has loaded and installed, while it answers (a down one's last list is stale). */}
      {health && (state === 'up' || state === 'skipped') ? (
        <>
          <div className="backend-loaded">
            <span className="muted">{t('overview.backend.loaded')}</span>{' '}
            {health.loaded.length === 0 ? (
              <span className="muted">{t('overview.backend.noneLoaded')}</span>
            ) : (
              <ul className="chips wrap">
                {health.loaded.map((model) => (
                  <li key={model.name}>
                    <code>{model.name}</code>
                  </li>
                ))}
              </ul>
            )}
          </div>
          {health.models.length > 0 ? (
            <details className="backend-models">
              <summary>{t('overview.backend.installedList', { count: formatNumber(health.models.length, locale) })}</summary>
              <ul className="chips wrap">
                {[...health.models]
                  .sort((a, b) => a.name.localeCompare(b.name))
                  .map((model) => (
                    <li key={model.name}>
                      <code>{model.name}</code>
                    </li>
                  ))}
              </ul>
            </details>
          ) : null}
        </>
      ) : null}
    </li>
  );
}
