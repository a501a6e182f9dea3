import type { GateApiError, KeyFields, KeyView, Scope } from '../../../../electron/shared/contract.js';
import type { PlainMessageKey } from '../../i18n/translate.js';
import { splitPatterns } from './models.js';

/** The key form as typed: every field a string (or the scope), parsed on submit. */
export interface KeyFormValues {
  user: string;
  name: string;
  scope: Scope;
  /** patterns separated by commas, spaces or lines */
  models: string;
  rpm: string;
  concurrency: string;
  dailyTokens: string;
  /** YYYY-MM-DD (the key works through that day, local time), or empty for never */
  expires: string;
}

export type KeyFormField = keyof KeyFormValues;
export type KeyFormErrors = Partial<Record<KeyFormField, PlainMessageKey>>;

export function emptyKeyForm(): KeyFormValues {
  return { user: '', name: '', scope: 'inference', models: '', rpm: '', concurrency: '', dailyTokens: '', expires: '' };
}

export function keyFormFromView(key: KeyView): KeyFormValues {
  const limit = (value: number | null) => (value === null ? '' : String(value));
  return {
    user: key.user,
    name: key.name ?? '',
    scope: key.scope,
    models: key.models.join(', '),
    rpm: limit(key.rpm),
    concurrency: limit(key.concurrency),
    dailyTokens: limit(key.dailyTokens),
    expires: key.expiresAt === null ? '' : localDate(key.expiresAt),
  };
}

export type ParsedKeyForm = { ok: true; fields: KeyFields } | { ok: false; errors: KeyFormErrors };

/** Checks the form the way the gate will, so most mistakes are explained before anything is sent. */
export function parseKeyForm(values: KeyFormValues, now: number): ParsedKeyForm {
  const errors: KeyFormErrors = {};
  const user = values.user.trim();
  if (!user) errors.user = 'keys.error.userRequired';
  else if (user.length > 100) errors.user = 'keys.error.tooLong';
  const name = values.name.trim();
  if (name.length > 100) errors.name = 'keys.error.tooLong';
  const models = [...new Set(splitPatterns(values.models))];
  if (models.some((model) => model.length > 200)) errors.models = 'keys.error.tooLong';
  const limit = (field: 'rpm' | 'concurrency' | 'dailyTokens'): number | null => {
    const text = values[field].trim();
    if (!text) return null;
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 1e12) {
      errors[field] = 'keys.error.positiveWhole';
      return null;
    }
    return Number(text);
  };
  const rpm = limit('rpm');
  const concurrency = limit('concurrency');
  const dailyTokens = limit('dailyTokens');
  let expiresAt: number | null = null;
  if (values.expires) {
    const end = endOfLocalDay(values.expires);
    if (end === null) errors.expires = 'keys.error.badDate';
    else if (end <= now) errors.expires = 'keys.error.expiryPast';
    else expiresAt = end;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, fields: { user, name: name || null, scope: values.scope, models, rpm, concurrency, dailyTokens, expiresAt } };
}

/** Only what changed, for keys.update. */
export function changedFields(key: KeyView, fields: KeyFields): Partial<KeyFields> {
  const patch: Partial<KeyFields> = {};
  for (const field of Object.keys(fields) as Array<keyof KeyFields>) {
    if (JSON.stringify(fields[field]) !== JSON.stringify(key[field])) Object.assign(patch, { [field]: fields[field] });
  }
  // An unchanged expiry day must not move a precise expiry (set elsewhere) to the end of that day.
  if ('expiresAt' in patch && key.expiresAt !== null && fields.expiresAt !== null && localDate(key.expiresAt) === localDate(fields.expiresAt))
    delete patch.expiresAt;
  return patch;
}

const FIELD_OF_ISSUE: Record<string, KeyFormField> = {
  user: 'user',
  name: 'name',
  scope: 'scope',
  models: 'models',
  rpm: 'rpm',
  concurrency: 'concurrency',
  dailyTokens: 'dailyTokens',
  expiresAt: 'expires',
};

/** The gate's own reasons, by form field (`models.2` → models); the rest stay in `general`. */
export function errorsFromIssues(error: GateApiError): { fields: Partial<Record<KeyFormField, string>>; general: string | null } {
  const fields: Partial<Record<KeyFormField, string>> = {};
  const rest: string[] = [];
  for (const issue of error.issues ?? []) {
    const field = FIELD_OF_ISSUE[issue.path.split('.')[0] ?? ''];
    if (field) fields[field] ??= issue.message;
    else rest.push(issue.path ? `${issue.path}: ${issue.message}` : issue.message);
  }
  const general = error.issues?.length ? (rest.length ? rest.join('; ') : null) : error.message;
  return { fields, general };
}

/** The last millisecond of a YYYY-MM-DD day in local time, or null if it is not a real date. */
export function endOfLocalDay(day: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const end = new Date(year, month - 1, date, 23, 59, 59, 999);
  return end.getFullYear() === year && end.getMonth() === month - 1 && end.getDate() === date ? end.getTime() : null;
}

export function localDate(time: number): string {
  const d = new Date(time);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
