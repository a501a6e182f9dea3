/**
 * Renders the app icon from its SVG designs into every file the installers use (run it when the
 * design changes: npx tsx scripts/icons.ts; the results are committed):
 *   build/icon.svg        the design, drawn on Apple's icon grid (824 px body in 1024)
 *   build/icon-small.svg  the same mark redrawn for 16–32 px: full bleed, fewer and thicker shapes
 *   → build/icons/NxN.png (Linux), build/icon.png (1024), build/icon.ico (16–256), build/icon.icns
 * Chromium (playwright-core with Debian's /usr/bin/chromium) rasterises the SVG; the .ico and .icns
 * containers are written by scripts/icons/containers.ts. `--preview FILE` also writes a contact
 * sheet of every size on light and dark backgrounds, to look at before committing.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Page, chromium } from 'playwright-core';
import { ICNS_TYPES, type IcnsType, encodeIcns, encodeIco } from './icons/containers.js';

const BUILD = join(import.meta.dirname, '..', 'build');
const SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024] as const;
/** At and below this size the small design is used. */
const SMALL_UP_TO = 32;
const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256];

async function render(page: Page, svg: string, size: number): Promise<Buffer> {
  await page.setViewportSize({ width: size, height: size });
  const sized = svg.replace(/<svg\b/, `<svg width="${size}" height="${size}"`);
  await page.setContent(`<!doctype html><html><body style="margin:0;background:transparent">${sized}</body></html>`);
  return page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
}

async function previewSheet(page: Page, pngs: Map<number, Buffer>, file: string): Promise<void> {
  const image = (size: number, scale = 1) =>
    `<img src="data:image/png;base64,${pngs.get(size)!.toString('base64')}" width="${size * scale}" height="${size * scale}" style="image-rendering:pixelated">`;
  const row = (background: string) =>
    `<div style="display:flex;align-items:flex-end;gap:16px;padding:16px;background:${background}">${[16, 24, 32, 48, 64, 128, 256].map((size) => image(size)).join('')}${image(16, 8)}${image(32, 4)}</div>`;
  await page.setViewportSize({ width: 1100, height: 600 });
  await page.setContent(`<!doctype html><html><body style="margin:0">${row('#f4f4f5')}${row('#1f1f23')}${row('#3b82f6')}</body></html>`);
  writeFileSync(file, await page.screenshot({ fullPage: true }));
}

async function main(): Promise<void> {
  const large = readFileSync(join(BUILD, 'icon.svg'), 'utf8');
  const small = readFileSync(join(BUILD, 'icon-small.svg'), 'utf8');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ deviceScaleFactor: 1 });
    const pngs = new Map<number, Buffer>();
    for (const size of SIZES) pngs.set(size, await render(page, size <= SMALL_UP_TO ? small : large, size));

    mkdirSync(join(BUILD, 'icons'), { recursive: true });
    for (const [size, png] of pngs) writeFileSync(join(BUILD, 'icons', `${size}x${size}.png`), png);
    writeFileSync(join(BUILD, 'icon.png'), pngs.get(1024)!);
    writeFileSync(join(BUILD, 'icon.ico'), encodeIco(ICO_SIZES.map((size) => pngs.get(size)!)));
    const icns = (Object.entries(ICNS_TYPES) as Array<[IcnsType, number]>).map(([type, size]) => ({ type, png: pngs.get(size)! }));
    writeFileSync(join(BUILD, 'icon.icns'), encodeIcns(icns));
    process.stdout.write(
      `build/icons/{${SIZES.map((size) => `${size}x${size}`).join(',')}}.png, build/icon.png, build/icon.ico (${ICO_SIZES.join(', ')}), build/icon.icns (${Object.keys(ICNS_TYPES).join(', ')})\n`,
    );

    const preview = process.argv.indexOf('--preview');
    if (preview >= 0 && process.argv[preview + 1]) {
      await previewSheet(page, pngs, process.argv[preview + 1]!);
      process.stdout.write(`preview: ${process.argv[preview + 1]}\n`);
    }
  } finally {
    await browser.close();
  }
}

await main();
