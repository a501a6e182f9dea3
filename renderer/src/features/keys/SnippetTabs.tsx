import { useId, useState } from 'react';
import { CopyButton } from '../../components/CopyButton.js';
import { useI18n } from '../../i18n/context.js';
import type { Snippet, SnippetId } from './snippets.js';

/**
 * Ready-to-paste code, one tab per client (arrow keys move between tabs). Shared by the one-time
 * secret dialog (snippets carry the secret) and "How to connect" (they carry a placeholder).
 */
export function SnippetTabs({ snippets, label, onCopied }: { snippets: Snippet[]; label: string; onCopied?: () => void }) {
  const { t } = useI18n();
  const [tab, setTab] = useState<SnippetId>('curl');
  const current = snippets.find((snippet) => snippet.id === tab) ?? snippets[0]!;
  const tabsId = useId();
  const moveTab = (step: number | 'first' | 'last') => {
    const index = snippets.findIndex((snippet) => snippet.id === current.id);
    const next = step === 'first' ? snippets[0]! : step === 'last' ? snippets.at(-1)! : snippets[(index + step + snippets.length) % snippets.length]!;
    setTab(next.id);
    document.getElementById(`${tabsId}-${next.id}`)?.focus();
  };
  return (
    <>
      <h3>{label}</h3>
      <div className="tabs" role="tablist" aria-label={label}>
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
              const step = { ArrowRight: 1, ArrowLeft: -1, Home: 'first', End: 'last' }[event.key] as number | 'first' | 'last' | undefined;
              if (step === undefined) return;
              event.preventDefault();
              moveTab(step);
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
        <CopyButton text={current.code} label={current.label} onCopied={onCopied} />
      </div>
    </>
  );
}
