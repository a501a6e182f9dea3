import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../../electron/main/tray/icon-images.js';
import { ICNS_TYPES, decodeIcns, decodeIco, encodeIcns, encodeIco, pngSize } from './containers.js';

const BUILD = join(import.meta.dirname, '..', '..', 'build');
const png = (size: number) => encodePng(size, size, new Uint8Array(size * size * 4).fill(200));

describe('.ico', () => {
  it('stores each PNG whole, 256 px as 0 in the directory', () => {
    const images = [16, 32, 256].map(png);
    const ico = encodeIco(images);
    expect(ico.readUInt16LE(4)).toBe(3);
    expect(ico.readUInt8(6 + 2 * 16)).toBe(0);
    expect(decodeIco(ico)).toEqual(images.map((image, index) => ({ width: [16, 32, 256][index], height: [16, 32, 256][index], png: image })));
  });

  it('refuses images over 256 px', () => {
    expect(() => encodeIco([png(512)])).toThrow(/at most 256/);
  });
});

describe('.icns', () => {
  it('writes type, length and PNG per image under a header with the total length', () => {
    const icns = encodeIcns([
      { type: 'icp4', png: png(16) },
      { type: 'ic11', png: png(32) },
    ]);
    expect(icns.toString('ascii', 0, 4)).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    expect(decodeIcns(icns).map(({ type, png: image }) => [type, pngSize(image).width])).toEqual([
      ['icp4', 16],
      ['ic11', 32],
    ]);
  });

  it('refuses an image of the wrong size for its type', () => {
    expect(() => encodeIcns([{ type: 'ic07', png: png(64) }])).toThrow(/ic07 must be 128 px/);
  });
});

describe('the committed icons (regenerate with `npx tsx scripts/icons.ts`)', () => {
  it('build/icon.ico holds 16 to 256 px', () => {
    expect(decodeIco(readFileSync(join(BUILD, 'icon.ico'))).map(({ width, png: image }) => [width, pngSize(image).width])).toEqual(
      [16, 24, 32, 48, 64, 128, 256].map((size) => [size, size]),
    );
  });

  it('build/icon.icns holds every PNG type at its size', () => {
    const images = decodeIcns(readFileSync(join(BUILD, 'icon.icns')));
    expect(Object.fromEntries(images.map(({ type, png: image }) => [type, pngSize(image).width]))).toEqual(ICNS_TYPES);
  });

  it('build/icons has the Linux sizes and build/icon.png is 1024 px', () => {
    for (const size of [16, 24, 32, 48, 64, 128, 256, 512, 1024])
      expect(pngSize(readFileSync(join(BUILD, 'icons', `${size}x${size}.png`)))).toEqual({ width: size, height: size });
    expect(pngSize(readFileSync(join(BUILD, 'icon.png')))).toEqual({ width: 1024, height: 1024 });
  });
});
