import { Icon } from '../components/Icon.js';
import { useI18n } from '../i18n/context.js';
import { formatHash } from '../router.js';
import { useGateState } from '../state.js';
import { gateIndicator, ollamaIndicator } from './status.js';

/**
 * The gate's and Ollama's state, on every page: each an icon of its own shape, a colour and words,
 * and a link to the overview where both are explained. In the narrow icon rail the words are
 * hidden from sight but stay in the link's name and tooltip.
 */
export function SidebarStatus() {
  const { t } = useI18n();
  const state = useGateState();
  const rows = [
    { id: 'gate', name: t('shell.gate'), indicator: gateIndicator(state, t) },
    { id: 'ollama', name: t('shell.ollama'), indicator: ollamaIndicator(state, t) },
  ];
  return (
    <div className="shell-status" role="status">
      {rows.map(({ id, name, indicator }) => (
        <a
          key={id}
          href={formatHash({ page: 'overview' })}
          className={`status-link ${indicator.tone}`}
          aria-label={t('shell.statusTitle', { name, value: indicator.value })}
          title={[t('shell.statusTitle', { name, value: indicator.value }), indicator.detail, t('shell.openOverview')].filter(Boolean).join('\n')}
          data-status={id}
          data-tone={indicator.tone}
        >
          <Icon name={indicator.icon} className="status-icon" />
          <span className="status-name">{name}</span>
          <span className="status-value">{indicator.value}</span>
        </a>
      ))}
    </div>
  );
}
