import type { HealthView, ProxyStatus } from '../../../electron/shared/contract.js';
import type { ConnectionState } from '../../../electron/shared/gate-client.js';
import type { IconName } from '../components/Icon.js';
import type { Tone } from '../components/StatusBadge.js';
import type { Translate } from '../i18n/translate.js';

/** One line of the sidebar's status: an icon of its own shape, a colour, and the words. */
export interface Indicator {
  tone: Tone;
  icon: IconName;
  /** short: it sits in a narrow sidebar */
  value: string;
  /** the longer story, for the tooltip (and screen readers) */
  detail: string | null;
}

type Shown = { connection: ConnectionState; status: ProxyStatus | null; health: HealthView | null };

/** The gate: Disconnected beats what was last heard, since that may no longer be true. */
export function gateIndicator({ connection, status }: Shown, t: Translate): Indicator {
  if (connection.state !== 'connected') return { tone: 'danger', icon: 'disconnected', value: t('shell.disconnected'), detail: t('shell.lost') };
  if (!status) return { tone: 'muted', icon: 'pending', value: t('shell.connecting'), detail: null };
  switch (status.state) {
    case 'listening':
      return status.error
        ? { tone: 'warn', icon: 'warning', value: t('nav.serving'), detail: t('shell.servingWithError', { error: status.error }) }
        : { tone: 'ok', icon: 'ok', value: t('nav.serving'), detail: status.urls.join('  ') || null };
    case 'stopped':
      return { tone: 'muted', icon: 'stopped', value: t('nav.stopped'), detail: null };
    case 'error':
      return { tone: 'danger', icon: 'error', value: t('nav.error'), detail: status.error };
  }
}

/** Ollama as the gate last saw it: unreachable, open on the LAN without a key, or fine (with its version). */
export function ollamaIndicator({ connection, health }: Shown, t: Translate): Indicator {
  if (connection.state !== 'connected') return { tone: 'muted', icon: 'unknown', value: t('shell.ollamaUnknown'), detail: null };
  if (!health) return { tone: 'muted', icon: 'pending', value: t('shell.ollamaChecking'), detail: null };
  if (!health.reachable)
    return { tone: 'danger', icon: 'error', value: t('shell.ollamaUnreachable'), detail: [health.upstream, health.error].filter(Boolean).join(': ') };
  if (health.exposedOn.length > 0) {
    return {
      tone: 'warn',
      icon: 'warning',
      value: t('shell.ollamaExposed'),
      detail: t('shell.ollamaExposedDetail', { addresses: health.exposedOn.join(', ') }),
    };
  }
  return { tone: 'ok', icon: 'ok', value: health.version ?? t('shell.ollamaReachable'), detail: health.upstream };
}
