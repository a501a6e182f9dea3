import { crc32, deflateSync } from 'node:zlib';
import { TRAY_ICON_STATES, type TrayIconState, trayIconFile } from './icons.js';

/**
 * The tray images, drawn in code so they can be regenerated and checked (scripts/tray-icons.ts
 * writes them to build/tray). Shapes tell the states apart, since macOS template images have no
 * colour: a ring with a dot (serving), the same with a warning triangle over its corner (Ollama
 * open on the LAN without a key), with a broken ring (Ollama offline), an empty ring (stopped), a
 * ring with an exclamation mark (error). Elsewhere each state also has its colour.
 */

type Rgb = readonly [number, number, number];

const COLOURS: Record<TrayIconState, Rgb> = {
  serving: [0x1f, 0x9d, 0x55],
  exposed: [0x1f, 0x9d, 0x55],
  offline: [0xd9, 0x8e, 0x04],
  stopped: [0x80, 0x80, 0x80],
  error: [0xd6, 0x33, 0x33],
};

/** The warning badge's colour, where images have colour. */
const BADGE: Rgb = [0xe0, 0x8a, 0x00];

/** The warning badge: a triangle over the bottom-right corner (corners of the 16 × 16 box). */
const TRIANGLE: ReadonlyArray<readonly [number, number]> = [
  [12.1, 7.2],
  [16, 15.7],
  [8.2, 15.7],
];

/** How far a point lies outside the triangle (negative inside), by its edges. */
function outsideTriangle(x: number, y: number): number {
  let distance = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const [ax, ay] = TRIANGLE[i]!;
    const [bx, by] = TRIANGLE[(i + 1) % 3]!;
    const length = Math.hypot(bx - ax, by - ay);
    // The triangle is listed clockwise (y down), so this cross product is negative inside.
    distance = Math.max(distance, ((x - ax) * (by - ay) - (y - ay) * (bx - ax)) / length);
  }
  return distance;
}

/** Which ink a point (in a 16 × 16 box, centre 8,8) takes for this state: the body's, the badge's, or none. */
function ink(state: TrayIconState, x: number, y: number): 'body' | 'badge' | null {
  const dx = x - 8;
  const dy = y - 8;
  const r = Math.hypot(dx, dy);
  const ring = r >= 5.6 && r <= 7.2;
  const dot = r <= 2.9;
  const body = (on: boolean) => (on ? 'body' : null);
  switch (state) {
    case 'serving':
      return body(ring || dot);
    case 'exposed': {
      const outside = outsideTriangle(x, y);
      if (outside <= 0) {
        // an exclamation mark cut out of the triangle
        const bar = Math.abs(x - 12.1) <= 0.6 && y >= 10.2 && y <= 13.3;
        const point = Math.hypot(x - 12.1, y - 14.6) <= 0.65;
        return bar || point ? null : 'badge';
      }
      // a clear margin keeps the badge apart from the ring
      return outside < 1.1 ? null : body(ring || dot);
    }
    case 'offline': {
      // a ring broken into six dashes
      const segment = Math.floor(((Math.atan2(dy, dx) + Math.PI / 12) / (2 * Math.PI)) * 12 + 12) % 12;
      return body((ring && segment % 2 === 0) || dot);
    }
    case 'stopped':
      return body(ring);
    case 'error': {
      const bar = Math.abs(dx) <= 0.95 && y >= 3.7 && y <= 8.6;
      const point = Math.hypot(dx, y - 10.9) <= 1.05;
      return body(ring || bar || point);
    }
  }
}

/** RGBA pixels of one image, anti-aliased by sampling each pixel 4 × 4 times. */
export function drawTrayIcon(state: TrayIconState, template: boolean, scale: 1 | 2): { size: number; rgba: Uint8Array } {
  const size = 16 * scale;
  const rgba = new Uint8Array(size * size * 4);
  const colours: Record<'body' | 'badge', Rgb> = template ? { body: [0, 0, 0], badge: [0, 0, 0] } : { body: COLOURS[state], badge: BADGE };
  const samples = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const covered = { body: 0, badge: 0 };
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const kind = ink(state, (px + (sx + 0.5) / samples) / scale, (py + (sy + 0.5) / samples) / scale);
          if (kind) covered[kind]++;
        }
      }
      const total = covered.body + covered.badge;
      // a pixel both inks touch takes the colour of the one covering more of it
      const [r, g, b] = colours[covered.badge > covered.body ? 'badge' : 'body'];
      const offset = (py * size + px) * 4;
      rgba.set([r, g, b, Math.round((total / (samples * samples)) * 255)], offset);
    }
  }
  return { size, rgba };
}

/** A minimal PNG encoder: 8-bit RGBA, no interlace, every row unfiltered. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  const rows = Buffer.alloc(height * (width * 4 + 1));
  for (let y = 0; y < height; y++) {
    rows[y * (width * 4 + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(rows, y * (width * 4 + 1) + 1);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // bit depth 8, colour type RGBA, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** Every tray image file: each state, coloured and template, at 1x and 2x. */
export function trayIconImages(): Array<{ file: string; png: Buffer }> {
  return TRAY_ICON_STATES.flatMap((state) =>
    [false, true].flatMap((template) =>
      ([1, 2] as const).map((scale) => {
        const { size, rgba } = drawTrayIcon(state, template, scale);
        return { file: trayIconFile(state, template, scale), png: encodePng(size, size, rgba) };
      }),
    ),
  );
}
