import { useEffect, useState } from 'react';
import { useI18n } from '../i18n/context.js';

/** Copies text to the clipboard and says so for a moment. */
export function CopyButton({ text, label, className, onCopied }: { text: string; label?: string; className?: string; onCopied?: () => void }) {
  const { t } = useI18n();
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 2_000);
    return () => clearTimeout(timer);
  }, [state]);
  const copy = async () => {
    try {
      await copyText(text);
      setState('copied');
      onCopied?.();
    } catch {
      setState('failed');
    }
  };
  const caption = state === 'copied' ? t('common.copied') : state === 'failed' ? t('common.copyFailed') : t('common.copy');
  return (
    <button
      type="button"
      className={`button small ${className ?? ''}`}
      onClick={() => void copy()}
      aria-label={label ? `${caption}: ${label}` : caption}
      aria-live="polite"
    >
      {caption}
    </button>
  );
}

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // A page without clipboard permission falls back to a selection.
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'offscreen';
  document.body.append(area);
  area.select();
  const copied = document.execCommand('copy');
  area.remove();
  if (!copied) throw new Error('copy refused');
}
