import { createContext, useContext } from 'react';
import type { Language } from '../../../electron/shared/contract.js';
import { type Locale, type Translate, createTranslator } from './translate.js';

export interface I18n {
  locale: Locale;
  t: Translate;
  /** what the user chose: a language, or `system` */
  preference: Language;
  setPreference(language: Language): void;
}

export const I18nContext = createContext<I18n>({ locale: 'en', t: createTranslator('en'), preference: 'system', setPreference: () => {} });

export function useI18n(): I18n {
  return useContext(I18nContext);
}
