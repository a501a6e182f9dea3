import type { GateApiError } from '../../../electron/shared/contract.js';
import { useI18n } from '../i18n/context.js';

/** A failed call, said plainly; the gate's own message is kept, since it names the cause. */
export function ErrorMessage({ error, className }: { error: GateApiError | string | null | undefined; className?: string }) {
  const { t } = useI18n();
  if (!error) return null;
  const message = typeof error === 'string' ? error : error.code === 'forbidden' ? `${t('error.forbidden')} (${error.message})` : error.message;
  return (
    <p className={`banner error ${className ?? ''}`} role="alert">
      {message}
    </p>
  );
}
