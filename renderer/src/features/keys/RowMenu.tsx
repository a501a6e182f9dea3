import { type KeyboardEvent, useEffect, useId, useLayoutEffect, useRef, useState } from 'react';

/** Whether the browser has popovers (jsdom has not: there the menu simply follows its button). */
const POPOVERS = typeof HTMLElement !== 'undefined' && typeof HTMLElement.prototype.showPopover === 'function';

export interface RowMenuItem {
  id: string;
  label: string;
  onSelect: () => void;
  danger?: boolean;
}

/**
 * A row's "⋯" menu (the ARIA menu-button pattern): Enter, Space or the arrows open it on an item;
 * arrows, Home, End and a first letter move; Escape or Tab closes it and the focus goes back to
 * the button, which is also where it is when a chosen item opens a dialog (so the dialog returns
 * it there). The menu is a popover in the top layer, placed beside its button within the window
 * (above it when there is no room below), so no scrolling box clips it; it follows a scroll.
 */
export function RowMenu({ label, items }: { label: string; items: RowMenuItem[] }) {
  const [open, setOpen] = useState<false | 'first' | 'last'>(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const buttonId = useId();
  const menuId = useId();

  const entries = () => [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };

  useLayoutEffect(() => {
    const list = menu.current;
    if (!open || !list || !button.current) return;
    if (POPOVERS) {
      if (!list.matches(':popover-open')) list.showPopover();
      place(list, button.current);
    }
    const items = entries();
    (open === 'last' ? items.at(-1) : items[0])?.focus();
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const outside = (event: MouseEvent) => {
      const target = event.target as Node;
      if (!menu.current?.contains(target) && !button.current?.contains(target)) close(false);
    };
    // A scroll or a resize moves the button: the menu follows it, and closes once it is out of sight.
    const away = (event: Event) => {
      const list = menu.current;
      const anchor = button.current;
      if (!list || !anchor || list.contains(event.target as Node) || !POPOVERS) return;
      const at = anchor.getBoundingClientRect();
      const frame = (anchor.closest('main') ?? document.documentElement).getBoundingClientRect();
      if (at.bottom <= frame.top || at.top >= frame.bottom || at.bottom <= 0 || at.top >= window.innerHeight) close(false);
      else place(list, anchor);
    };
    document.addEventListener('mousedown', outside);
    window.addEventListener('scroll', away, true);
    window.addEventListener('resize', away);
    return () => {
      document.removeEventListener('mousedown', outside);
      window.removeEventListener('scroll', away, true);
      window.removeEventListener('resize', away);
    };
  }, [open]);

  const onMenuKey = (event: KeyboardEvent) => {
    const list = entries();
    const index = list.indexOf(document.activeElement as HTMLElement);
    const go = (next: number) => list[(next + list.length) % list.length]?.focus();
    if (event.key === 'ArrowDown') go(index + 1);
    else if (event.key === 'ArrowUp') go(index - 1);
    else if (event.key === 'Home') go(0);
    else if (event.key === 'End') go(list.length - 1);
    else if (event.key === 'Escape') close(true);
    else if (event.key === 'Tab') return close(true);
    else if (event.key.length === 1 && /\S/.test(event.key)) {
      const letter = event.key.toLowerCase();
      const order = [...list.slice(index + 1), ...list.slice(0, index + 1)];
      order.find((entry) => entry.textContent?.trim().toLowerCase().startsWith(letter))?.focus();
    } else return;
    event.preventDefault();
    event.stopPropagation();
  };

  return (
    <div className="row-menu">
      <button
        ref={button}
        id={buttonId}
        type="button"
        className="button icon-button row-menu-button"
        aria-label={label}
        title={label}
        aria-haspopup="menu"
        aria-expanded={open !== false}
        aria-controls={open ? menuId : undefined}
        onClick={() => (open ? close(true) : setOpen('first'))}
        onKeyDown={(event) => {
          if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
          event.preventDefault();
          setOpen(event.key === 'ArrowUp' ? 'last' : 'first');
        }}
      >
        <svg className="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
          <path d="M5 12h.01M12 12h.01M19 12h.01" />
        </svg>
      </button>
      {open ? (
        <div
          ref={menu}
          id={menuId}
          role="menu"
          aria-labelledby={buttonId}
          popover={POPOVERS ? 'manual' : undefined}
          className="row-menu-list"
          onKeyDown={onMenuKey}
          onBlur={(event) => {
            const next = event.relatedTarget as Node | null;
            if (next && !menu.current?.contains(next) && next !== button.current) setOpen(false);
          }}
        >
          {items.map((item) => (
            <button
              key={item.id}
              type="button"
              role="menuitem"
              tabIndex={-1}
              className={`row-menu-item${item.danger ? ' danger' : ''}`}
              onClick={() => {
                close(true);
                item.onSelect();
              }}
            >
              {item.label}
            </button>
          ))}
        </div>
      ) : null}
    </div>
  );
}

/** Below the button, right edges aligned, or above it when the window has no room below; always inside the window. */
function place(list: HTMLElement, anchor: HTMLElement): void {
  const gap = 4;
  const margin = 8;
  const at = anchor.getBoundingClientRect();
  const { clientWidth: width, clientHeight: height } = document.documentElement;
  const left = Math.max(margin, Math.min(at.right - list.offsetWidth, width - list.offsetWidth - margin));
  const below = at.bottom + gap;
  const above = at.top - gap - list.offsetHeight;
  const top = below + list.offsetHeight <= height - margin ? below : above >= margin ? above : Math.max(margin, height - list.offsetHeight - margin);
  // Set through the CSSOM, which the page's style policy allows (a style attribute it would not).
  list.style.setProperty('left', `${left}px`);
  list.style.setProperty('top', `${top}px`);
}
