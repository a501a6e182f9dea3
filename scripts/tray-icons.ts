/**
 * Writes the tray images to build/tray (run: npx tsx scripts/tray-icons.ts). The images are
 * committed; electron/main/tray/icon-images.test.ts fails when they differ from what this draws.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trayIconImages } from '../electron/main/tray/icon-images.js';

const directory = join(import.meta.dirname, '..', 'build', 'tray');
mkdirSync(directory, { recursive: true });
for (const { file, png } of trayIconImages()) {
  writeFileSync(join(directory, file), png);
  process.stdout.write(`${join('build', 'tray', file)} (${png.length} bytes)\n`);
}
