/**
 * One small set of line icons, drawn on a 24-unit grid with the same stroke: actions on compact
 * buttons, the pages in the sidebar, and states. They are decoration only (aria-hidden): whatever
 * shows one also carries its words, visibly or for screen readers.
 */
const CIRCLE = 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z';

const PATHS = {
  // actions
  edit: 'M4 20h4L19 9l-4-4L4 16v4zM13.5 6.5l4 4',
  rotate: 'M20 11a8 8 0 0 0-14.3-4.9L4 8M4 4v4h4M4 13a8 8 0 0 0 14.3 4.9L20 16M20 20v-4h-4',
  trash: 'M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3',
  // pages
  overview: 'M4 4h6.5v6.5H4zM13.5 4H20v6.5h-6.5zM4 13.5h6.5V20H4zM13.5 13.5H20V20h-6.5z',
  keys: 'M4 15a4 4 0 1 0 8 0a4 4 0 1 0-8 0M10.8 12.2 20 3M16.5 6.5l2.5 2.5M14 9l2 2',
  sessions: 'M3 5h18v11H3zM8.5 20h7M12 16v4',
  logs: 'M9 6h11M9 12h11M9 18h11M4.5 6h.01M4.5 12h.01M4.5 18h.01',
  usage: 'M4 20h16M7 16.5V12M12 16.5V6.5M17 16.5V9.5',
  settings: 'M4 6h9M17 6h3M4 12h3M11 12h9M4 18h11M19 18h1M13 6a2 2 0 1 0 4 0a2 2 0 1 0-4 0M7 12a2 2 0 1 0 4 0a2 2 0 1 0-4 0M15 18a2 2 0 1 0 4 0a2 2 0 1 0-4 0',
  // states: each its own shape, so colour is never the only sign
  ok: `${CIRCLE}M8 12.5l2.7 2.7L16 9.8`,
  stopped: `${CIRCLE}M9.5 9.5h5v5h-5z`,
  error: `${CIRCLE}M9.2 9.2l5.6 5.6M14.8 9.2l-5.6 5.6`,
  warning: 'M12 3.8 2.8 19.5h18.4zM12 10v4.2M12 16.9v.01',
  disconnected: 'M9.5 6.5l1.4-1.4a4 4 0 0 1 5.7 5.7l-1.4 1.4M14.5 17.5l-1.4 1.4a4 4 0 0 1-5.7-5.7l1.4-1.4M4 4l16 16',
  pending: `${CIRCLE}M12 7.5V12l3 2`,
  unknown: `${CIRCLE}M9.6 9.6a2.5 2.5 0 1 1 3.4 2.3c-.6.3-1 .8-1 1.5v.6M12 16.9v.01`,
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name, className }: { name: IconName; className?: string }) {
  return (
    <svg className={className ? `icon ${className}` : 'icon'} viewBox="0 0 24 24" aria-hidden="true" focusable="false" data-icon={name}>
      <path d={PATHS[name]} />
    </svg>
  );
}

/**
 * The app's mark: the arch, keyhole and threshold of the app icon (build/icon-small.svg), in its
 * own colours on its own tile, so it reads the same on light and dark. renderer/public/favicon.svg
 * is the same drawing.
 */
export function BrandMark({ className }: { className?: string }) {
  return (
    <svg className={className} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="7" fill="#1d3461" />
      <path d="M10 24V14a6 6 0 0 1 12 0v10z" fill="#0e1833" />
      <path d="M14 12h4v10h-4z" fill="#fbbf24" />
      <circle cx="16" cy="13" r="3" fill="#fbbf24" />
      <path d="M8 26V14a8 8 0 0 1 16 0v12" fill="none" stroke="#f8fafc" strokeWidth="4" />
      <rect x="4" y="24" width="24" height="4" rx="2" fill="#f8fafc" />
    </svg>
  );
}
