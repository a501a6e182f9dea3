import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { GateContext } from '../gate.js';
import { I18nContext } from '../i18n/context.js';
import { type Locale, createTranslator } from '../i18n/translate.js';
import { GateStateContext, useGateStateSource } from '../state.js';
import type { FakeGate } from './fake-gate.js';

/** Renders a page as the App would: with the gate, its live state and a language. */
export function renderWithGate(ui: ReactNode, fake: FakeGate, locale: Locale = 'en') {
  function Providers({ children }: { children: ReactNode }) {
    const state = useGateStateSource(fake.gate);
    return (
      <GateContext.Provider value={fake.gate}>
        <GateStateContext.Provider value={state}>
          <I18nContext.Provider value={{ locale, t: createTranslator(locale), preference: locale, setPreference: () => {} }}>{children}</I18nContext.Provider>
        </GateStateContext.Provider>
      </GateContext.Provider>
    );
  }
  return render(<Providers>{ui}</Providers>);
}
