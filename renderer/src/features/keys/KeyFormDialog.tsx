import { useState } from 'react';
import type { GateApiError, KeyFields, Scope } from '../../../../electron/shared/contract.js';
import { Dialog } from '../../components/Dialog.js';
import { ErrorMessage } from '../../components/ErrorMessage.js';
import { Field } from '../../components/Field.js';
import { useI18n } from '../../i18n/context.js';
import { useGateState } from '../../state.js';
import { ModelPicker } from './ModelPicker.js';
import { type KeyFormField, type KeyFormValues, errorsFromIssues, parseKeyForm } from './key-form.js';
import { splitPatterns } from './models.js';

/** Creates a key or edits one (rename, scope, models, limits, expiry). */
export function KeyFormDialog({
  mode,
  initial,
  onSubmit,
  onClose,
}: {
  mode: 'create' | 'edit';
  initial: KeyFormValues;
  /** resolves with the gate's error, or null when it worked */
  onSubmit: (fields: KeyFields) => Promise<GateApiError | null>;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [values, setValues] = useState(initial);
  /** a model pattern typed but not yet a chip: it counts when the form is sent */
  const [modelDraft, setModelDraft] = useState('');
  const health = useGateState().health;
  const installed = health?.reachable ? health.models : [];
  const [errors, setErrors] = useState<Partial<Record<KeyFormField, string>>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (field: KeyFormField) => (event: { target: { value: string } }) => {
    setValues((current) => ({ ...current, [field]: event.target.value }));
    setErrors((current) => ({ ...current, [field]: undefined }));
  };

  const submit = async () => {
    const parsed = parseKeyForm({ ...values, models: [values.models, modelDraft].join(', ') }, Date.now());
    if (!parsed.ok) {
      setErrors(Object.fromEntries(Object.entries(parsed.errors).map(([field, key]) => [field, t(key)])));
      return;
    }
    setBusy(true);
    const error = await onSubmit(parsed.fields);
    setBusy(false);
    if (error) {
      const split = errorsFromIssues(error);
      setErrors(split.fields);
      setGeneral(split.general);
    }
  };

  return (
    <Dialog title={mode === 'create' ? t('keys.createTitle') : t('keys.editTitle')} onClose={onClose}>
      <form
        className="form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <div className="form-grid">
          <Field label={t('keys.field.user')} hint={t('keys.field.userHint')} error={errors.user}>
            {(props) => <input {...props} type="text" value={values.user} onChange={set('user')} autoFocus maxLength={100} required />}
          </Field>
          <Field label={t('keys.field.name')} hint={t('keys.field.nameHint')} error={errors.name}>
            {(props) => <input {...props} type="text" value={values.name} onChange={set('name')} maxLength={100} />}
          </Field>
          <Field label={t('keys.field.scope')} hint={values.scope === 'full' ? t('keys.scope.fullHint') : t('keys.scope.inferenceHint')} error={errors.scope}>
            {(props) => (
              <select {...props} value={values.scope} onChange={(event) => setValues((current) => ({ ...current, scope: event.target.value as Scope }))}>
                <option value="inference">{t('keys.scope.inference')}</option>
                <option value="full">{t('keys.scope.full')}</option>
              </select>
            )}
          </Field>
          <Field
            className="wide-field"
            label={t('keys.field.models')}
            hint={health && !health.reachable ? `${t('keys.field.modelsHint')} ${t('keys.picker.offline')}` : t('keys.field.modelsHint')}
            error={errors.models}
          >
            {(props) => (
              <ModelPicker
                control={props}
                value={splitPatterns(values.models)}
                onChange={(models) => {
                  setValues((current) => ({ ...current, models: models.join(', ') }));
                  setErrors((current) => ({ ...current, models: undefined }));
                }}
                draft={modelDraft}
                onDraftChange={setModelDraft}
                installed={installed}
              />
            )}
          </Field>
          <Field label={t('keys.field.rpm')} hint={t('keys.field.noLimitHint')} error={errors.rpm}>
            {(props) => <input {...props} type="text" inputMode="numeric" value={values.rpm} onChange={set('rpm')} />}
          </Field>
          <Field label={t('keys.field.concurrency')} hint={t('keys.field.noLimitHint')} error={errors.concurrency}>
            {(props) => <input {...props} type="text" inputMode="numeric" value={values.concurrency} onChange={set('concurrency')} />}
          </Field>
          <Field label={t('keys.field.dailyTokens')} hint={t('keys.field.dailyTokensHint')} error={errors.dailyTokens}>
            {(props) => <input {...props} type="text" inputMode="numeric" value={values.dailyTokens} onChange={set('dailyTokens')} />}
          </Field>
          <Field label={t('keys.field.expires')} hint={t('keys.field.expiresHint')} error={errors.expires}>
            {(props) => <input {...props} type="date" value={values.expires} onChange={set('expires')} />}
          </Field>
        </div>
        <ErrorMessage error={general} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button primary" disabled={busy}>
            {mode === 'create' ? t('keys.create') : t('common.save')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
