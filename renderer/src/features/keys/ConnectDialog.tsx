import type { KeyView } from '../../../../electron/shared/contract.js';
import { Dialog } from '../../components/Dialog.js';
import { useI18n } from '../../i18n/context.js';
import { SnippetTabs } from './SnippetTabs.js';
import { KEY_PLACEHOLDER, clientSnippets } from './snippets.js';

/**
 * How to use a key, any time after it was made: the same snippets as after its creation, with a
 * placeholder where the secret goes, since the window never has the secret again.
 */
export function ConnectDialog({
  keyView,
  baseUrl,
  model,
  onRotate,
  onClose,
}: {
  keyView: KeyView;
  baseUrl: string;
  model: string;
  onRotate: () => void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  return (
    <Dialog title={t('keys.connectTitle', { user: keyView.user })} onClose={onClose} wide>
      <p className="lead">{t('keys.connectIntro', { placeholder: KEY_PLACEHOLDER, prefix: keyView.prefix })}</p>
      <SnippetTabs snippets={clientSnippets({ baseUrl, key: KEY_PLACEHOLDER, model })} label={t('keys.snippets')} />
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onRotate}>
          {t('keys.connectRotate')}
        </button>
        <button type="button" className="button primary" onClick={onClose} autoFocus>
          {t('common.close')}
        </button>
      </div>
    </Dialog>
  );
}
