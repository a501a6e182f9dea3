import type { ReactNode } from 'react';

export type Tone = 'ok' | 'warn' | 'danger' | 'muted';

export function Badge({ tone, children }: { tone: Tone; children: ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}
