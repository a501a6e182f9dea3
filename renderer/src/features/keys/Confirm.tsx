import { useState } from 'react';
import { Dialog } from '../../components/Dialog.js';
import { useI18n } from '../../i18n/context.js';

/** A question before something that cannot be undone; the safe answer has the focus. */
export function Confirm({
  title,
  body,
  confirm,
  cancel,
  danger,
  onConfirm,
  onClose,
}: {
  title: string;
  body: string;
  confirm: string;
  /** the safe answer's words; Cancel by default */
  cancel?: string;
  danger?: boolean;
  onConfirm: () => Promise<void> | void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title={title} onClose={onClose}>
      <p>{body}</p>
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose} autoFocus>
          {cancel ?? t('common.cancel')}
        </button>
        <button
          type="button"
          className={`button ${danger ? 'danger-solid' : 'primary'}`}
          disabled={busy}
          onClick={() => {
            setBusy(true);
            void Promise.resolve(onConfirm()).finally(() => setBusy(false));
          }}
        >
          {confirm}
        </button>
      </div>
    </Dialog>
  );
}
