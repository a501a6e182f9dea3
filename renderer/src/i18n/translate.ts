import type { Language } from '../../../electron/shared/contract.js';
import { type Dictionary, type MessageKey, en } from './en.js';
import { zhCN } from './zh-CN.js';

/** The languages the window speaks. */
export type Locale = 'en' | 'zh-CN';

/** The `{name}` placeholders in a message. */
type Placeholders<S extends string> = S extends `${string}{${infer Name}}${infer Rest}` ? Name | Placeholders<Rest> : never;
export type MessageParams<K extends MessageKey> = Placeholders<(typeof en)[K]>;

/** Messages without placeholders: what a table of message keys (errors, labels) may hold. */
export type PlainMessageKey = { [K in MessageKey]: [MessageParams<K>] extends [never] ? K : never }[MessageKey];

/** `t('logs.showing', { shown: 3, total: 9 })`: a message with placeholders must get every one, one without takes none. */
export type Translate = <K extends MessageKey>(
  key: K,
  ...params: [MessageParams<K>] extends [never] ? [] : [Record<MessageParams<K>, string | number>]
) => string;

export const dictionaries: Readonly<Record<Locale, Dictionary>> = { en, 'zh-CN': zhCN };

/** The language to show: the one chosen, or the first system language we speak (English otherwise). */
export function resolveLocale(preference: Language, systemLanguages: readonly string[]): Locale {
  if (preference !== 'system') return preference;
  for (const language of systemLanguages) {
    const lower = language.toLowerCase();
    // Traditional Chinese readers are better served by English than by Simplified characters.
    if (lower === 'zh' || lower.startsWith('zh-cn') || lower.startsWith('zh-hans') || lower === 'zh-sg') return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

export function createTranslator(locale: Locale): Translate {
  const dictionary = dictionaries[locale];
  return ((key: MessageKey, params?: Record<string, string | number>) => interpolate(dictionary[key] ?? en[key], params)) as Translate;
}

export function interpolate(template: string, params?: Record<string, string | number>): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}

/** The placeholders a message uses, for checking that translations keep them. */
export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '').sort();
}
