import { useEffect, useState } from 'react';
import type { GatePage, Navigation } from '../../electron/shared/contract.js';

export const PAGES: readonly GatePage[] = ['overview', 'keys', 'sessions', 'logs', 'usage', 'settings'];

/** `#/keys?action=create-key` → { page: 'keys', action: 'create-key' }; anything unknown is the overview. */
function parseHash(hash: string): Navigation {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const page = PAGES.find((p) => p === path) ?? 'overview';
  const action = new URLSearchParams(query).get('action');
  return action === 'create-key' ? { page, action } : { page };
}

export function formatHash(to: Navigation): string {
  return `#/${to.page}${to.action ? `?action=${to.action}` : ''}`;
}

/** The page in the address's hash, followed as it changes. */
export function useHashRoute(): Navigation {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const follow = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);
  return route;
}

export function navigate(to: Navigation): void {
  window.location.hash = formatHash(to);
}

/** Drops `?action=…` once it has been acted on, so reloading does not act again. */
export function clearAction(page: GatePage): void {
  if (window.location.hash.includes('?')) window.history.replaceState(null, '', formatHash({ page }));
}
