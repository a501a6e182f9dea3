import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { drawTrayIcon, encodePng, trayIconImages } from './icon-images.js';
import { TRAY_ICON_STATES, trayIconPath } from './icons.js';

const TRAY_DIR = join(import.meta.dirname, '..', '..', '..', 'build', 'tray');

/** Reads back what encodePng writes: size, colour type and the RGBA pixels. */
function decodePng(png: Buffer): { width: number; height: number; colourType: number; rgba: Buffer } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const colourType = png[25]!;
  const idatLength = png.readUInt32BE(33);
  expect(png.toString('ascii', 37, 41)).toBe('IDAT');
  const rows = inflateSync(png.subarray(41, 41 + idatLength));
  const rgba = Buffer.concat(Array.from({ length: height }, (_, y) => rows.subarray(y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1))));
  return { width, height, colourType, rgba };
}

describe('tray images', () => {
  it('encodes a PNG that decodes to the same pixels', () => {
    const { size, rgba } = drawTrayIcon('error', false, 2);
    const decoded = decodePng(encodePng(size, size, rgba));
    expect(decoded).toMatchObject({ width: 32, height: 32, colourType: 6 });
    expect(new Uint8Array(decoded.rgba)).toEqual(rgba);
  });

  it('has 16 px and @2x 32 px images per state; template images are black on transparent', () => {
    for (const { file, png } of trayIconImages()) {
      const { width, rgba } = decodePng(png);
      expect(width).toBe(file.includes('@2x') ? 32 : 16);
      const opaque = [...Array(rgba.length / 4).keys()].filter((i) => rgba[i * 4 + 3]! > 0);
      expect(opaque.length).toBeGreaterThan(20);
      expect(rgba[3]).toBe(0); // corners are transparent
      if (file.includes('Template')) expect(opaque.every((i) => rgba[i * 4] === 0 && rgba[i * 4 + 1] === 0 && rgba[i * 4 + 2] === 0)).toBe(true);
    }
  });

  it('draws every state differently, so the template images tell them apart without colour', () => {
    const shapes = TRAY_ICON_STATES.map((state) => Buffer.from(drawTrayIcon(state, true, 1).rgba).toString('base64'));
    expect(new Set(shapes).size).toBe(TRAY_ICON_STATES.length);
  });

  it('marks Ollama open on the LAN with a badge in its own colour, over the serving ring', () => {
    const serving = drawTrayIcon('serving', false, 2).rgba;
    const exposed = drawTrayIcon('exposed', false, 2).rgba;
    const pixel = (rgba: Uint8Array, x: number, y: number) => [...rgba.subarray((y * 32 + x) * 4, (y * 32 + x) * 4 + 4)];
    // top left: the same green ring; bottom right: the amber triangle where serving has nothing
    expect(pixel(exposed, 16, 2)).toEqual(pixel(serving, 16, 2));
    expect(pixel(exposed, 16, 2)[3]).toBe(255);
    expect(pixel(serving, 29, 29)[3]).toBe(0);
    expect(pixel(exposed, 29, 29)).toEqual([0xe0, 0x8a, 0x00, 255]);
  });

  it('matches the committed files in build/tray (regenerate with `npx tsx scripts/tray-icons.ts`)', () => {
    for (const { file, png } of trayIconImages()) expect(readFileSync(join(TRAY_DIR, file)).equals(png), file).toBe(true);
  });

  it('picks template images on macOS only', () => {
    expect(trayIconPath('/res/tray', 'serving', 'darwin')).toBe(join('/res/tray', 'tray-servingTemplate.png'));
    expect(trayIconPath('/res/tray', 'offline', 'win32')).toBe(join('/res/tray', 'tray-offline.png'));
    expect(trayIconPath('/res/tray', 'stopped', 'linux')).toBe(join('/res/tray', 'tray-stopped.png'));
    expect(trayIconPath('/res/tray', 'exposed', 'darwin')).toBe(join('/res/tray', 'tray-exposedTemplate.png'));
  });
});
