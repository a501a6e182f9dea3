import { useState } from 'react';
import type { KeyWithSecret } from '../../../../electron/shared/contract.js';
import { CopyButton } from '../../components/CopyButton.js';
import { Dialog } from '../../components/Dialog.js';
import { useI18n } from '../../i18n/context.js';
import { Confirm } from './Confirm.js';
import { SnippetTabs } from './SnippetTabs.js';
import { clientSnippets } from './snippets.js';

/**
 * The new secret, shown this once: the gate keeps only its hash, so closing this dialog forgets it
 * for good. Snippets for each client carry it ready to paste. Until the secret has been copied
 * (its button, a snippet's, or a copy of selected text that holds it), every way out asks first.
 */
export function SecretDialog({
  created,
  rotated,
  baseUrl,
  model,
  onClose,
}: {
  created: KeyWithSecret;
  rotated: boolean;
  baseUrl: string;
  model: string;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  const [asking, setAsking] = useState(false);
  const markCopied = () => setCopied(true);
  const requestClose = () => (copied ? onClose() : setAsking(true));
  // The question is the dialog's sibling, not its child: React passes a cancel (Escape) up its own tree.
  return (
    <>
      <Dialog
        title={rotated ? t('keys.rotatedTitle', { user: created.key.user }) : t('keys.createdTitle', { user: created.key.user })}
        onClose={requestClose}
        wide
      >
        <div
          onCopy={() => {
            if (window.getSelection()?.toString().includes(created.secret)) markCopied();
          }}
        >
          <p className="banner warn">{t('keys.secretOnce')}</p>
          <div className="secret-row">
            <code className="secret" aria-label={t('keys.secretLabel')}>
              {created.secret}
            </code>
            <CopyButton text={created.secret} label={t('keys.secretLabel')} onCopied={markCopied} />
          </div>
          <SnippetTabs snippets={clientSnippets({ baseUrl, key: created.secret, model })} label={t('keys.snippets')} onCopied={markCopied} />
        </div>
        <div className="dialog-actions">
          <button type="button" className="button primary" onClick={requestClose}>
            {t('keys.secretDone')}
          </button>
        </div>
      </Dialog>
      {asking ? (
        <Confirm
          title={t('keys.notCopiedTitle')}
          body={t('keys.notCopiedBody')}
          cancel={t('keys.notCopiedBack')}
          confirm={t('keys.notCopiedClose')}
          danger
          onConfirm={onClose}
          onClose={() => setAsking(false)}
        />
      ) : null}
    </>
  );
}
