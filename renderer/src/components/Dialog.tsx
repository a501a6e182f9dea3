import { type ReactNode, useEffect, useId, useRef } from 'react';

/**
 * A modal dialog on the native <dialog>: the browser traps focus, Escape closes it and focus
 * returns where it was. Where showModal is missing (jsdom), it opens without the backdrop.
 */
export function Dialog({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const unmounting = useRef(false);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    unmounting.current = false;
    if (typeof dialog.showModal === 'function') {
      if (!dialog.open) dialog.showModal();
    } else dialog.setAttribute('open', '');
    return () => {
      unmounting.current = true;
      if (typeof dialog.close === 'function' && dialog.open) dialog.close();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className={`dialog${wide ? ' wide' : ''}`}
      aria-labelledby={titleId}
      onCancel={(event) => {
        // Not cancelable: the browser closes the dialog anyway, and onClose below handles it.
        if (!event.cancelable) return;
        event.preventDefault();
        onClose();
      }}
      onClose={(event) => {
        // Chromium closes a modal by itself after repeated Escape presses with no click between (its
        // close-watcher rule). It stays open while its owner renders it; the owner is told, and decides.
        const dialog = event.currentTarget;
        if (unmounting.current || dialog.open || event.target !== dialog) return;
        if (typeof dialog.showModal === 'function') dialog.showModal();
        onClose();
      }}
    >
      <h2 id={titleId} className="dialog-title">
        {title}
      </h2>
      {children}
    </dialog>
  );
}
