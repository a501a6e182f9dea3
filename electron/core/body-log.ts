/** How much of a long text survives in a log: the seed proxy kept the first 50 and last 20 characters. */
const HEAD = 50;
const TAIL = 20;
const MAX_LOGGED = 4096;

/**
 * A request body as it may appear in a log when the user turned body logging on: JSON with every
 * long string shortened to its head and tail, images reduced to their size, and capped overall.
 * Bodies that are not JSON are described, not shown.
 */
export function summarizeBody(body: Buffer): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return `[${body.length} bytes, not JSON]`;
  }
  const text = JSON.stringify(shorten(parsed, ''));
  return text.length > MAX_LOGGED ? `${text.slice(0, MAX_LOGGED)}…` : text;
}

function shorten(value: unknown, key: string): unknown {
  if (typeof value === 'string') {
    if (key === 'images' || key === 'image_url' || value.startsWith('data:')) return `[image, ${value.length} characters]`;
    return value.length > HEAD + TAIL + 10 ? `${value.slice(0, HEAD)}…(${value.length - HEAD - TAIL} more)…${value.slice(-TAIL)}` : value;
  }
  if (Array.isArray(value)) {
    if (key === 'images') return value.map((image) => (typeof image === 'string' ? `[image, ${image.length} characters]` : image));
    if (value.length > 64 && value.every((v) => typeof v === 'number')) return `[${value.length} numbers]`;
    return value.map((item) => shorten(item, key));
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shorten(v, k)]));
  }
  return value;
}
