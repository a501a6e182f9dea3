import { type ReactNode, createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';

export type ToastTone = 'ok' | 'danger';

interface Toast {
  id: number;
  message: string;
  tone: ToastTone;
}

export interface Toasts {
  /** A short note that an action finished (or failed), shown for a few seconds in the corner. */
  show(message: string, tone?: ToastTone): void;
}

/** How long a note stays; failures stay longer, since the user may need to read them. */
const SHOWN_MS: Record<ToastTone, number> = { ok: 4000, danger: 8000 };
/** More than this at once: the oldest go first. */
const MAX_SHOWN = 4;

const ToastContext = createContext<Toasts | null>(null);

/**
 * The corner notes. They live in one polite live region so a screen reader reads each once;
 * a failure is assertive. Each closes itself, or with its × button.
 */
export function ToastProvider({ children, closeLabel }: { children: ReactNode; closeLabel: string }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());

  const dismiss = useCallback((id: number) => {
    clearTimeout(timers.current.get(id));
    timers.current.delete(id);
    setToasts((shown) => shown.filter((toast) => toast.id !== id));
  }, []);

  const show = useCallback(
    (message: string, tone: ToastTone = 'ok') => {
      const id = nextId.current++;
      setToasts((shown) => [...shown, { id, message, tone }].slice(-MAX_SHOWN));
      timers.current.set(
        id,
        setTimeout(() => dismiss(id), SHOWN_MS[tone]),
      );
    },
    [dismiss],
  );

  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const timer of pending.values()) clearTimeout(timer);
      pending.clear();
    };
  }, []);

  const value = useMemo(() => ({ show }), [show]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((toast) => (
          <div key={toast.id} className={`toast ${toast.tone}`} role={toast.tone === 'danger' ? 'alert' : undefined}>
            <span>{toast.message}</span>
            <button type="button" className="toast-close" aria-label={closeLabel} onClick={() => dismiss(toast.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

/** The corner notes; outside a ToastProvider (a page rendered alone in a test) they are dropped. */
export function useToast(): Toasts {
  return useContext(ToastContext) ?? DROPPED;
}

const DROPPED: Toasts = { show: () => {} };
