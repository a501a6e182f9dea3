/**
 * What a browser sees when it opens the web admin without its token: a small page that says what
 * happened and how to get in, instead of a bare 401. It lives under the admin's strict CSP like
 * every other answer, so it has no script and no inline style: its stylesheet is a file of its
 * own (UNAUTHORIZED_CSS_PATH) that the admin serves to anyone, as it holds nothing secret.
 */

export const UNAUTHORIZED_CSS_PATH = '/unauthorized.css';

export type UnauthorizedReason = 'missing' | 'wrong';
export type PageLanguage = 'en' | 'zh-CN';

interface Words {
  title: string;
  heading: Record<UnauthorizedReason, string>;
  why: Record<UnauthorizedReason, string>;
  howHeading: string;
  how: (port: number) => string[];
  remote: (port: number) => string;
}

const WORDS: Record<PageLanguage, Words> = {
  en: {
    title: 'Ollama Gate — open the admin link',
    heading: { missing: 'This page needs the admin link', wrong: 'This admin link is no longer valid' },
    why: {
      missing:
        'The web admin of Ollama Gate answers only a browser that opened it with its secret token, and this browser has none (or one that was replaced since).',
      wrong:
        'The token in that link is not the current one: it was replaced (deleting the <code>admin-token</code> file in the data folder makes <code>ollama-gate serve</code> create a new one at its next start). Open the link it printed when it last started.',
    },
    howHeading: 'To get in',
    how: (port) => [
      `Open the link <code>ollama-gate serve</code> printed in its terminal when it started. It looks like <code>http://127.0.0.1:${port}/?token=…</code>.`,
      'No longer have it? It is printed again at every start of <code>ollama-gate serve</code> (with <code>journalctl -u ollama-gate</code> for the service), and its token is in the <code>admin-token</code> file of the data folder.',
    ],
    remote: (port) =>
      `The admin answers on this machine only. From another computer, go through an SSH tunnel: <code>ssh -L ${port}:127.0.0.1:${port} SERVER</code>, then open the link there.`,
  },
  'zh-CN': {
    title: 'Ollama Gate — 请打开管理链接',
    heading: { missing: '此页面需要通过管理链接打开', wrong: '此管理链接已不再有效' },
    why: {
      missing: 'Ollama Gate 的网页管理只响应用其密钥令牌打开的浏览器，而此浏览器没有令牌（或者它的令牌已被更换）。',
      wrong:
        '该链接中的令牌不是当前的令牌：它已被更换（删除数据文件夹中的 <code>admin-token</code> 文件后，<code>ollama-gate serve</code> 下次启动时会生成新令牌）。请打开它最近一次启动时打印的链接。',
    },
    howHeading: '如何进入',
    how: (port) => [
      `打开 <code>ollama-gate serve</code> 启动时在终端中打印的链接，形如 <code>http://127.0.0.1:${port}/?token=…</code>。`,
      '找不到了？<code>ollama-gate serve</code> 每次启动都会再次打印它（服务方式运行时见 <code>journalctl -u ollama-gate</code>），令牌也保存在数据文件夹的 <code>admin-token</code> 文件中。',
    ],
    remote: (port) =>
      `管理页面只在本机可访问。从其他电脑访问时，请通过 SSH 隧道：<code>ssh -L ${port}:127.0.0.1:${port} 服务器</code>，然后在那台电脑上打开链接。`,
  },
};

/** The language to answer in, from the browser's Accept-Language (Simplified Chinese or English). */
export function pageLanguage(acceptLanguage: string | undefined): PageLanguage {
  const tags = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().toLowerCase().split(';');
      const q = Number(
        params
          .find((p) => p.trim().startsWith('q='))
          ?.trim()
          .slice(2) ?? 1,
      );
      return { tag, q: Number.isFinite(q) ? q : 0 };
    })
    .filter(({ tag, q }) => tag && q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of tags) {
    // Traditional Chinese readers are better served by English, as in the window.
    if (tag === 'zh' || tag.startsWith('zh-cn') || tag.startsWith('zh-hans') || tag === 'zh-sg') return 'zh-CN';
    if (tag.startsWith('en')) return 'en';
  }
  return 'en';
}

/** Whether the request is a browser opening a page (rather than a script or an API call). */
export function wantsHtml(accept: string | undefined): boolean {
  return /\btext\/html\b/i.test(accept ?? '');
}

export function unauthorizedPage(reason: UnauthorizedReason, language: PageLanguage, port: number): string {
  const words = WORDS[language];
  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex">
<title>${words.title}</title>
<link rel="stylesheet" href="${UNAUTHORIZED_CSS_PATH}">
<link rel="icon" href="data:image/svg+xml,${encodeURIComponent(MARK)}">
</head>
<body>
<main class="card">
<div class="mark">${MARK}<span>Ollama Gate</span></div>
<h1>${words.heading[reason]}</h1>
<p>${words.why[reason]}</p>
<h2>${words.howHeading}</h2>
<ol>${words
    .how(port)
    .map((step) => `<li>${step}</li>`)
    .join('')}</ol>
<p class="note">${words.remote(port)}</p>
</main>
</body>
</html>
`;
}

/** The app's mark, as in the window's sidebar (renderer/public/favicon.svg). */
const MARK =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" aria-hidden="true" width="32" height="32"><rect width="32" height="32" rx="7" fill="#1d3461"/><path d="M10 24V14a6 6 0 0 1 12 0v10z" fill="#0e1833"/><path d="M14 12h4v10h-4z" fill="#fbbf24"/><circle cx="16" cy="13" r="3" fill="#fbbf24"/><path d="M8 26V14a8 8 0 0 1 16 0v12" fill="none" stroke="#f8fafc" stroke-width="4"/><rect x="4" y="24" width="24" height="4" rx="2" fill="#f8fafc"/></svg>';

/** The page's look: the window's colours, light and dark. */
export const UNAUTHORIZED_CSS = `:root {
  color-scheme: light;
  --bg: #f4f6f8;
  --surface: #ffffff;
  --text: #17202a;
  --muted: #566270;
  --border: #d3d9e0;
  --accent: #1f5fd1;
  --code-bg: #eef1f4;
  font: 15px/1.55 system-ui, -apple-system, 'Segoe UI', 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif;
  color: var(--text);
  background: var(--bg);
}
@media (prefers-color-scheme: dark) {
  :root {
    color-scheme: dark;
    --bg: #0f1216;
    --surface: #181c22;
    --text: #e6eaef;
    --muted: #9aa5b2;
    --border: #323944;
    --accent: #5b9bff;
    --code-bg: #11151a;
  }
}
body {
  margin: 0;
  min-height: 100vh;
  display: grid;
  place-items: center;
  padding: 1.5rem;
  box-sizing: border-box;
}
.card {
  max-width: 36rem;
  width: 100%;
  background: var(--surface);
  border: 1px solid var(--border);
  border-radius: 10px;
  padding: 1.6rem 1.8rem;
  box-sizing: border-box;
  box-shadow: 0 1px 3px rgb(16 24 40 / 10%);
}
.mark {
  display: flex;
  align-items: center;
  gap: 0.6rem;
  font-weight: 700;
  margin-bottom: 1.1rem;
}
.mark svg {
  width: 2rem;
  height: 2rem;
}
h1 {
  font-size: 1.35rem;
  line-height: 1.3;
  margin: 0 0 0.6rem;
}
h2 {
  font-size: 1rem;
  margin: 1.2rem 0 0.3rem;
}
p,
li {
  margin: 0.4rem 0;
  overflow-wrap: anywhere;
}
ol {
  padding-left: 1.3rem;
  margin: 0;
}
code {
  font: 0.88em ui-monospace, 'SF Mono', Menlo, Consolas, 'Liberation Mono', monospace;
  background: var(--code-bg);
  border-radius: 4px;
  padding: 0.05em 0.35em;
}
.note {
  color: var(--muted);
  font-size: 0.9em;
  margin-top: 1.1rem;
  border-top: 1px solid var(--border);
  padding-top: 0.8rem;
}
`;
