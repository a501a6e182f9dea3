import { useId } from 'react';
import { DEFAULT_BACKEND_NAME } from '../../../../electron/shared/contract.js';
import { Field } from '../../components/Field.js';
import { useI18n } from '../../i18n/context.js';
import { type BackendColumn, type BackendFormRow, MAX_BACKENDS, type SettingsErrorKey, backendErrorKey, newBackendRow } from './settings-form.js';

/** The header a client names a backend with, in the explanation under the list. */
const HEADER_EXAMPLE = 'X-Gate-Backend: NAME';

export interface BackendsSectionProps {
  rows: readonly BackendFormRow[];
  /** the default backend's URL, as typed in the Ollama URL field above */
  upstream: string;
  errors: Partial<Record<SettingsErrorKey, string>>;
  /** the flag or variable that pins the list for this run: then it is shown read-only */
  pinnedBy: string | null;
  /**
   * The new rows. `touched`: the errors to clear, the fields edited; without it (a row added or
   * removed, so the rows below moved) every backend error goes.
   */
  onChange: (rows: BackendFormRow[], touched?: SettingsErrorKey) => void;
}

/**
 * The Ollamas beside the default one: the default first (its URL is the field above, it is never
 * removed), then one row per backend with its name, URL, weight and switch. How requests are
 * routed between them is said above the list, the X-Gate-Backend header below it.
 */
export function BackendsSection({ rows, upstream, errors, pinnedBy, onChange }: BackendsSectionProps) {
  const { t } = useI18n();
  const locked = pinnedBy !== null;
  const update = (index: number, column: BackendColumn | 'enabled', value: string | boolean) =>
    onChange(
      rows.map((row, i) => (i === index ? { ...row, [column]: value } : row)),
      column === 'enabled' ? 'backends' : backendErrorKey(index, column),
    );
  const [beforeHeader, afterHeader = ''] = t('settings.backendsHeader', { header: '\u0000' }).split('\u0000');
  return (
    <fieldset className="subgroup backends">
      <legend>{t('settings.backends')}</legend>
      <p className="hint">
        {locked ? (
          <>
            <span className="pinned-note">{t('settings.pinnedBy', { by: pinnedBy })}</span>{' '}
          </>
        ) : null}
        {t('settings.backendsIntro')}
      </p>
      <ol className="backend-list">
        <li className="backend-row default" role="group" aria-label={t('settings.backendRow', { name: DEFAULT_BACKEND_NAME })}>
          <div className="backend-default-name">
            <code>{DEFAULT_BACKEND_NAME}</code>
            <span className="badge ok">{t('settings.backendDefaultBadge')}</span>
          </div>
          <code className="backend-default-url">{upstream.trim() || '—'}</code>
          <p className="hint">{t('settings.backendDefaultHint')}</p>
        </li>
        {rows.map((row, index) => (
          <BackendRow
            key={row.key}
            row={row}
            index={index}
            locked={locked}
            errors={errors}
            onEdit={(column, value) => update(index, column, value)}
            onRemove={() => onChange(rows.filter((_, i) => i !== index))}
          />
        ))}
      </ol>
      {rows.length === 0 ? <p className="hint">{t('settings.backendsNone')}</p> : null}
      {errors.backends ? (
        <p className="error-text" role="alert">
          {errors.backends}
        </p>
      ) : null}
      {locked ? null : (
        <div>
          <button type="button" className="button small" disabled={rows.length >= MAX_BACKENDS} onClick={() => onChange([...rows, newBackendRow()])}>
            {t('settings.backendAdd')}
          </button>
        </div>
      )}
      <p className="hint">
        {beforeHeader}
        <code>{HEADER_EXAMPLE}</code>
        {afterHeader}
      </p>
    </fieldset>
  );
}

function BackendRow({
  row,
  index,
  locked,
  errors,
  onEdit,
  onRemove,
}: {
  row: BackendFormRow;
  index: number;
  locked: boolean;
  errors: Partial<Record<SettingsErrorKey, string>>;
  onEdit: (column: BackendColumn | 'enabled', value: string | boolean) => void;
  onRemove: () => void;
}) {
  const { t } = useI18n();
  const switchId = useId();
  const name = row.name.trim();
  const label = name ? t('settings.backendRow', { name }) : t('settings.backendRowNew', { number: index + 1 });
  const error = (column: BackendColumn) => errors[backendErrorKey(index, column)];
  return (
    <li className={`backend-row${row.enabled ? '' : ' off'}`} role="group" aria-label={label}>
      <Field label={t('settings.backendName')} error={error('name')} className="backend-name">
        {(props) => (
          <input
            {...props}
            type="text"
            value={row.name}
            readOnly={locked}
            spellCheck={false}
            autoComplete="off"
            maxLength={40}
            placeholder="gpu-box"
            onChange={(event) => onEdit('name', event.target.value)}
          />
        )}
      </Field>
      <Field label={t('settings.backendUrl')} error={error('url')} className="backend-url">
        {(props) => (
          <input
            {...props}
            type="url"
            value={row.url}
            readOnly={locked}
            spellCheck={false}
            autoComplete="off"
            placeholder="http://192.168.1.20:11434"
            onChange={(event) => onEdit('url', event.target.value)}
          />
        )}
      </Field>
      <Field label={t('settings.backendWeight')} error={error('weight')} className="backend-weight">
        {(props) => (
          <input {...props} type="text" inputMode="numeric" value={row.weight} readOnly={locked} onChange={(event) => onEdit('weight', event.target.value)} />
        )}
      </Field>
      <div className="backend-actions">
        <div className="backend-switch">
          <input
            id={switchId}
            type="checkbox"
            className="switch"
            checked={row.enabled}
            disabled={locked}
            onChange={(event) => onEdit('enabled', event.target.checked)}
          />
          <label htmlFor={switchId}>{t('settings.backendEnabled')}</label>
        </div>
        {locked ? null : (
          <button type="button" className="button small danger" aria-label={t('settings.backendRemoveNamed', { name: name || label })} onClick={onRemove}>
            {t('settings.backendRemove')}
          </button>
        )}
      </div>
    </li>
  );
}
