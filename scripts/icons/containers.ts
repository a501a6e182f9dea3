/**
 * The two icon containers the installers want, written by hand: both are a short directory of
 * PNG images. Windows' .ico (ICONDIR, one 16-byte entry per image, then the PNGs) and macOS'
 * .icns ('icns', total length, then type + length + PNG per image; big-endian throughout).
 */

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (png.readUInt32BE(0) !== 0x89504e47 || png.toString('ascii', 12, 16) !== 'IHDR') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** An .ico holding each PNG as is (Windows Vista and later read PNG entries; 256 px is stored as 0). */
export function encodeIco(pngs: readonly Buffer[]): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(pngs.length, 4);
  const entries = Buffer.alloc(16 * pngs.length);
  let offset = header.length + entries.length;
  pngs.forEach((png, index) => {
    const { width, height } = pngSize(png);
    if (width > 256 || height > 256) throw new Error(`an .ico entry is at most 256 px, not ${width}`);
    const entry = index * 16;
    entries.writeUInt8(width === 256 ? 0 : width, entry);
    entries.writeUInt8(height === 256 ? 0 : height, entry + 1);
    entries.writeUInt8(0, entry + 2); // no palette
    entries.writeUInt8(0, entry + 3); // reserved
    entries.writeUInt16LE(1, entry + 4); // colour planes
    entries.writeUInt16LE(32, entry + 6); // bits per pixel
    entries.writeUInt32LE(png.length, entry + 8);
    entries.writeUInt32LE(offset, entry + 12);
    offset += png.length;
  });
  return Buffer.concat([header, entries, ...pngs]);
}

export function decodeIco(ico: Buffer): Array<{ width: number; height: number; png: Buffer }> {
  if (ico.readUInt16LE(0) !== 0 || ico.readUInt16LE(2) !== 1) throw new Error('not an .ico');
  return Array.from({ length: ico.readUInt16LE(4) }, (_, index) => {
    const entry = 6 + index * 16;
    const [width, height] = [ico.readUInt8(entry) || 256, ico.readUInt8(entry + 1) || 256];
    const png = ico.subarray(ico.readUInt32LE(entry + 12), ico.readUInt32LE(entry + 12) + ico.readUInt32LE(entry + 8));
    return { width, height, png };
  });
}

/**
 * The PNG-holding .icns types and the pixel size each must be: the 1x types, then the @2x ones
 * (ic11 is 16 pt at 2x, so 32 px).
 */
export const ICNS_TYPES = {
  icp4: 16,
  icp5: 32,
  icp6: 64,
  ic07: 128,
  ic08: 256,
  ic09: 512,
  ic10: 1024,
  ic11: 32,
  ic12: 64,
  ic13: 256,
  ic14: 512,
} as const;

export type IcnsType = keyof typeof ICNS_TYPES;

export function encodeIcns(images: ReadonlyArray<{ type: IcnsType; png: Buffer }>): Buffer {
  const chunks = images.map(({ type, png }) => {
    const { width } = pngSize(png);
    if (width !== ICNS_TYPES[type]) throw new Error(`${type} must be ${ICNS_TYPES[type]} px, not ${width}`);
    const header = Buffer.alloc(8);
    header.write(type, 0, 'ascii');
    header.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([header, png]);
  });
  const header = Buffer.alloc(8);
  header.write('icns', 0, 'ascii');
  header.writeUInt32BE(8 + chunks.reduce((sum, chunk) => sum + chunk.length, 0), 4);
  return Buffer.concat([header, ...chunks]);
}

export function decodeIcns(icns: Buffer): Array<{ type: string; png: Buffer }> {
  if (icns.toString('ascii', 0, 4) !== 'icns' || icns.readUInt32BE(4) !== icns.length) throw new Error('not an .icns');
  const images: Array<{ type: string; png: Buffer }> = [];
  for (let offset = 8; offset < icns.length;) {
    const length = icns.readUInt32BE(offset + 4);
    images.push({ type: icns.toString('ascii', offset, offset + 4), png: icns.subarray(offset + 8, offset + length) });
    offset += length;
  }
  return images;
}
