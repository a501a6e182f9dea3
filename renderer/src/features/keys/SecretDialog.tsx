import { useId, useState } from 'react';
import type { KeyWithSecret } from '../../../../electron/shared/contract.js';
import { CopyButton } from '../../components/CopyButton.js';
import { Dialog } from '../../components/Dialog.js';
import { useI18n } from '../../i18n/context.js';
import { type SnippetId, clientSnippets } from './snippets.js';

/**
 * The new secret, shown this once: the gate keeps only its hash, so closing this dialog forgets it
 * for good. Snippets for each client carry it ready to paste.
 */
export function SecretDialog({ created, rotated, baseUrl, model, onClose }: { created: KeyWithSecret; rotated: boolean; baseUrl: string; model: string; onClose: () => void }) {
  const { t } = useI18n();
  const snippets = clientSnippets({ baseUrl, key: created.secret, model });
  const [tab, setTab] = useState<SnippetId>('curl');
  const current = snippets.find((snippet) => snippet.id === tab) ?? snippets[0]!;
  const tabsId = useId();
  const moveTab = (step: number) => {
    const index = snippets.findIndex((snippet) => snippet.id === current.id);
    const next = snippets[(index + step + snippets.length) % snippets.length]!;
    setTab(next.id);
    document.getElementById(`${tabsId}-${next.id}`)?.focus();
  };
  return (
    <Dialog title={rotated ? t('keys.rotatedTitle', { user: created.key.user }) : t('keys.createdTitle', { user: created.key.user })} onClose={onClose} wide>
      <p className="banner warn">{t('keys.secretOnce')}</p>
      <div className="secret-row">
        <code className="secret" aria-label={t('keys.secretLabel')}>
          {created.secret}
        </code>
        <CopyButton text={created.secret} label={t('keys.secretLabel')} />
      </div>
      <h3>{t('keys.snippets')}</h3>
      <div className="tabs" role="tablist" aria-label={t('keys.snippets')}>
        {snippets.map((snippet) => (
          <button
            key={snippet.id}
            id={`${tabsId}-${snippet.id}`}
            type="button"
            role="tab"
            aria-selected={snippet.id === current.id}
            aria-controls={`${tabsId}-panel`}
            tabIndex={snippet.id === current.id ? 0 : -1}
            className="tab"
            onClick={() => setTab(snippet.id)}
            onKeyDown={(event) => {
              if (event.key === 'ArrowRight') moveTab(1);
              if (event.key === 'ArrowLeft') moveTab(-1);
            }}
          >
            {snippet.label}
          </button>
        ))}
      </div>
      <div id={`${tabsId}-panel`} role="tabpanel" aria-labelledby={`${tabsId}-${current.id}`} className="snippet">
        <p className="hint">{t(current.note)}</p>
        <pre className="code" data-snippet={current.id}>
          {current.code}
        </pre>
        <CopyButton text={current.code} label={current.label} />
      </div>
      <div className="dialog-actions">
        <button type="button" className="button primary" onClick={onClose}>
          {t('keys.secretDone')}
        </button>
      </div>
    </Dialog>
  );
}
