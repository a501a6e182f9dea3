import { useId, useState } from 'react';
import type { InstalledModel } from '../../../../electron/shared/contract.js';
import type { FieldControlProps } from '../../components/Field.js';
import { useI18n } from '../../i18n/context.js';
import { addPatterns, modelOptions, splitPatterns } from './models.js';

/**
 * A key's model allow-list as removable chips, with a combobox that suggests Ollama's installed
 * models and takes any typed name or `*` pattern (a comma, a space, Enter or Tab adds it). Without
 * installed models (Ollama unreachable) it is plain typing. What is typed but not added yet is the
 * owner's `draft`, so a submit can count it.
 */
export function ModelPicker({
  control,
  value,
  onChange,
  draft,
  onDraftChange,
  installed,
}: {
  /** the Field's id and descriptions, for the text box */
  control: FieldControlProps;
  value: string[];
  onChange: (models: string[]) => void;
  draft: string;
  onDraftChange: (text: string) => void;
  installed: readonly InstalledModel[];
}) {
  const { t } = useI18n();
  const [expanded, setExpanded] = useState(false);
  const [active, setActive] = useState(0);
  const listId = useId();
  const options = modelOptions(installed, value, draft);
  const shown = expanded && options.length > 0;
  const activeIndex = Math.min(active, options.length - 1);

  const add = (patterns: string[]) => {
    if (patterns.length) onChange(addPatterns(value, patterns));
    onDraftChange('');
    setActive(0);
  };
  const type = (text: string) => {
    // A separator ends a pattern: what comes before it becomes a chip, the rest stays typed.
    const parts = text.split(/[\s,]+/);
    const rest = parts.pop() ?? '';
    if (parts.some(Boolean)) onChange(addPatterns(value, parts.filter(Boolean)));
    onDraftChange(rest);
    setExpanded(true);
    setActive(0);
  };

  return (
    <div className="model-picker">
      {value.length ? (
        <ul className="model-chips" aria-label={t('keys.picker.chosen')}>
          {value.map((model) => (
            <li key={model} className="model-chip">
              <code>{model}</code>
              <button
                type="button"
                className="chip-remove"
                aria-label={t('keys.picker.remove', { model })}
                title={t('keys.picker.remove', { model })}
                onClick={(event) => {
                  onChange(value.filter((kept) => kept !== model));
                  event.currentTarget.closest('.model-picker')?.querySelector('input')?.focus();
                }}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <div className="model-combo">
        <input
          {...control}
          type="text"
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={shown}
          aria-controls={listId}
          aria-activedescendant={shown ? `${listId}-${activeIndex}` : undefined}
          autoComplete="off"
          spellCheck={false}
          value={draft}
          placeholder={value.length ? t('keys.picker.more') : 'llama3*, qwen2.5:7b'}
          onChange={(event) => type(event.target.value)}
          onFocus={() => setExpanded(true)}
          onBlur={() => {
            setExpanded(false);
            add(splitPatterns(draft));
          }}
          onKeyDown={(event) => {
            if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
              event.preventDefault();
              if (!shown) return setExpanded(true);
              const step = event.key === 'ArrowDown' ? 1 : -1;
              setActive((activeIndex + step + options.length) % options.length);
            } else if (event.key === 'Enter') {
              // Enter adds what is typed or picked; it submits the form only when nothing is.
              const picked = shown ? options[activeIndex]?.value : undefined;
              if (!picked && !draft.trim()) return;
              event.preventDefault();
              add(picked ? [picked] : splitPatterns(draft));
            } else if (event.key === 'Tab' && draft.trim()) {
              add(splitPatterns(draft));
            } else if (event.key === 'Escape' && shown) {
              // Closes the list, not the dialog around it.
              event.preventDefault();
              event.stopPropagation();
              setExpanded(false);
            } else if (event.key === 'Backspace' && !draft && value.length) {
              onChange(value.slice(0, -1));
            }
          }}
        />
        {shown ? (
          <ul id={listId} role="listbox" className="model-options" aria-label={t('keys.picker.suggestions')}>
            {options.map((option, index) => (
              <li
                key={option.value}
                id={`${listId}-${index}`}
                role="option"
                aria-selected={index === activeIndex}
                className="model-option"
                // Keeps the focus in the text box, so the list stays open for the next pick.
                onMouseDown={(event) => event.preventDefault()}
                onMouseMove={() => index !== activeIndex && setActive(index)}
                onClick={() => add([option.value])}
              >
                {option.model ? (
                  <>
                    <code>{option.model.name}</code>
                    <span className="muted small">{[option.model.parameterSize, option.model.quantization].filter(Boolean).join(' · ')}</span>
                  </>
                ) : (
                  <span>{t('keys.picker.addTyped', { pattern: option.value })}</span>
                )}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </div>
  );
}
