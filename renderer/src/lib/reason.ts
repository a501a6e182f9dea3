import type { GateReason } from '../../../electron/shared/contract.js';
import { type MessageKey, en } from '../i18n/en.js';
import type { Translate } from '../i18n/translate.js';

/**
 * A reason the gate gave, in the window's language: the message `reason.<code>` with its `{name}`
 * placeholders filled from the reason's params. Without a reason (an older log entry), or with a
 * code this window has no message for (a newer gate), the English text the gate sent beside it.
 */
export function formatReason(t: Translate, reason: GateReason | null | undefined, englishFallback: string): string;
export function formatReason(t: Translate, reason: GateReason | null | undefined, englishFallback: string | null): string | null;
export function formatReason(t: Translate, reason: GateReason | null | undefined, englishFallback: string | null): string | null {
  if (!reason) return englishFallback;
  const key = `reason.${reason.code}`;
  if (!Object.hasOwn(en, key)) return englishFallback;
  return (t as (key: MessageKey, params?: Record<string, string | number>) => string)(key as MessageKey, reason.params ?? {});
}
