import type { ProxyTestAnswer, ProxyTestResult } from '../../../../electron/shared/contract.js';
import type { Translate } from '../../i18n/translate.js';
import { formatReason } from '../../lib/reason.js';

export type VerdictTone = 'ok' | 'info' | 'warn' | 'danger';

/** What the Test card says of a test: a headline, the gate's own words when they add to it, and /health's answer. */
export interface TestVerdict {
  tone: VerdictTone;
  headline: string;
  /** the gate's reason in the window's language (its English when it has no code), or null */
  detail: string | null;
  /** tested without a key: what /health answered */
  health: string | null;
}

/**
 * The test's answer in words, read from the gate's reason for it (its JSON answer, told apart by
 * code): a lockout names the address and the seconds left, a refused key says why it was refused.
 */
export function describeTest(result: ProxyTestResult, t: Translate): TestVerdict {
  const code = result.reason?.code;
  const params = result.reason?.params ?? {};
  const status = result.status ?? 0;
  const gateWords = formatReason(t, result.reason, result.detail);
  const verdict = (tone: VerdictTone, headline: string, detail: string | null = gateWords): TestVerdict => ({
    tone,
    headline,
    detail,
    health: healthLine(result.health, t),
  });
  /** seconds left, as the gate said them (its message, else its Retry-After) */
  const seconds = Number(params.seconds ?? result.retryAfterSeconds ?? 0);

  if (result.status === null)
    return verdict(
      'danger',
      code === 'test_not_running' ? t('overview.verdict.notRunning') : t('overview.verdict.unreachable'),
      code === 'test_not_running' ? null : gateWords,
    );
  if (code === 'locked_out') return verdict('danger', t('overview.verdict.lockedOut', { ip: String(params.ip ?? ''), seconds }), null);
  if (code === 'invalid_key_locking' || code === 'disabled_key_locking' || code === 'expired_key_locking') {
    return verdict('danger', t('overview.verdict.nowLockedOut', { ip: String(params.ip ?? ''), seconds }));
  }
  if (status >= 200 && status < 300) {
    // Without a key, only an address trusted through POST /auth gets in.
    if (!result.health)
      return verdict(
        'ok',
        t(code === 'test_key_works_one' ? 'overview.verdict.keyWorksOne' : 'overview.verdict.keyWorks', { count: Number(params.count ?? 0) }),
        null,
      );
    return verdict('warn', t('overview.verdict.keylessTrusted'), null);
  }
  if (code === 'missing_key' || code === 'missing_key_body_unread')
    return verdict(result.health ? 'info' : 'danger', t('overview.verdict.keyless', { status }));
  if (code === 'invalid_key' || code === 'key_changed') return verdict('danger', t('overview.verdict.unknownKey', { status }));
  if (code === 'disabled_key') return verdict('danger', t('overview.verdict.disabledKey', { status }));
  if (code === 'expired_key') return verdict('danger', t('overview.verdict.expiredKey', { status }));
  if (code?.startsWith('rate_limit_')) {
    return verdict(
      'warn',
      result.retryAfterSeconds
        ? t('overview.verdict.rateLimitedFor', { status, seconds: result.retryAfterSeconds })
        : t('overview.verdict.rateLimited', { status }),
    );
  }
  if (status === 403) return verdict('danger', t('overview.verdict.notAllowed', { status }));
  if (status >= 500) return verdict('danger', t('overview.verdict.ollama', { status }));
  return verdict('danger', t('overview.verdict.failed', { status }));
}

function healthLine(health: ProxyTestAnswer | null, t: Translate): string | null {
  if (!health) return null;
  if (health.status === null) return t('overview.test.healthNoAnswer');
  if (health.status === 200) return t('overview.test.healthOk', { status: health.status });
  return t('overview.test.healthDown', { status: health.status });
}
