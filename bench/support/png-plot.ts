/**
 * A line plot as a PNG, with no dependency: an RGB raster, a 3x5 pixel font for the axis
 * numbers, and the PNG container (signature, IHDR, one zlib IDAT, IEND, CRC-32 per chunk as
 * in the PNG specification, section 5). The only plot bench/scale needs: series over a log-10
 * x axis, each y axis scaled to its own panel. Pure apart from zlib's deflate.
 */
import { deflateSync } from 'node:zlib';

export type Rgb = readonly [number, number, number];

export class Raster {
  readonly data: Buffer;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = Buffer.alloc(width * height * 3, 255);
  }

  set(x: number, y: number, c: Rgb): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const o = (yi * this.width + xi) * 3;
    this.data[o] = c[0];
    this.data[o + 1] = c[1];
    this.data[o + 2] = c[2];
  }

  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thick = 1): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    for (let i = 0; i <= steps; i++) {
      const x = x0 + ((x1 - x0) * i) / steps;
      const y = y0 + ((y1 - y0) * i) / steps;
      for (let d = 0; d < thick; d++) {
        this.set(x, y + d, c);
        this.set(x + d, y, c);
      }
    }
  }

  box(x: number, y: number, size: number, c: Rgb): void {
    for (let dx = -size; dx <= size; dx++) for (let dy = -size; dy <= size; dy++) this.set(x + dx, y + dy, c);
  }

  /** Digits, '.', 'k', 'M', 's' and space in a 3x5 font, `scale` pixels per dot. */
  text(x: number, y: number, s: string, c: Rgb, scale = 2): void {
    let cx = x;
    for (const ch of s) {
      const rows = FONT[ch];
      if (rows) {
        for (let r = 0; r < 5; r++) {
          for (let col = 0; col < 3; col++) {
            if (((rows[r]! >> (2 - col)) & 1) === 0) continue;
            for (let a = 0; a < scale; a++)
              for (let b = 0; b < scale; b++) this.set(cx + col * scale + a, y + r * scale + b, c);
          }
        }
      }
      cx += 4 * scale;
    }
  }
}

/** Each glyph: five rows of three bits, top row first. */
const FONT: Record<string, readonly number[]> = {
  '0': [7, 5, 5, 5, 7],
  '1': [2, 6, 2, 2, 7],
  '2': [7, 1, 7, 4, 7],
  '3': [7, 1, 7, 1, 7],
  '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7],
  '6': [7, 4, 7, 5, 7],
  '7': [7, 1, 1, 2, 2],
  '8': [7, 5, 7, 5, 7],
  '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2],
  k: [4, 5, 6, 5, 5],
  M: [5, 7, 7, 5, 5],
  s: [0, 7, 4, 1, 7],
  ' ': [0, 0, 0, 0, 0],
};

/** CRC-32 (ISO 3309, the polynomial PNG uses), table-driven. */
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  const tb = Buffer.concat([Buffer.from(type, 'ascii'), body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(tb));
  return Buffer.concat([len, tb, crc]);
}

/** The raster as a PNG file: 8-bit RGB, no interlace, filter type 0 on every row. */
export function encodePng(r: Raster): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(r.width, 0);
  ihdr.writeUInt32BE(r.height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  const stride = r.width * 3;
  const raw = Buffer.alloc((stride + 1) * r.height);
  for (let y = 0; y < r.height; y++) r.data.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export interface Series {
  readonly color: Rgb;
  /** [x, y] points; NaN y values are skipped. */
  readonly points: readonly (readonly [number, number])[];
}

export interface Panel {
  readonly series: readonly Series[];
}

const short = (v: number): string =>
  v >= 1e6 ? `${+(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `${+(v / 1e3).toFixed(1)}k` : `${+v.toPrecision(3)}`;

/** Panels side by side, x on a log-10 scale shared by all, each y from 0 to its own maximum. */
export function plotPanels(panels: readonly Panel[], xs: readonly number[]): Buffer {
  const pw = 300;
  const ph = 220;
  const m = 40;
  const img = new Raster(panels.length * (pw + m) + m, ph + 2 * m);
  const lx = xs.map((x) => Math.log10(x));
  const x0 = Math.min(...lx);
  const x1 = Math.max(...lx);
  const grey: Rgb = [160, 160, 160];
  panels.forEach((p, k) => {
    const left = m + k * (pw + m);
    const top = m;
    const ys = p.series.flatMap((s) => s.points.map(([, y]) => y)).filter((y) => Number.isFinite(y));
    const yMax = Math.max(1e-9, ...ys) * 1.1;
    img.line(left, top + ph, left + pw, top + ph, grey);
    img.line(left, top, left, top + ph, grey);
    img.text(left + 2, top - 14, short(yMax / 1.1), [0, 0, 0]);
    img.line(left - 3, top + ph - ph / 1.1, left + 3, top + ph - ph / 1.1, grey);
    const px = (x: number): number => left + (x1 === x0 ? pw / 2 : ((Math.log10(x) - x0) / (x1 - x0)) * pw);
    for (const x of xs) {
      img.line(px(x), top + ph, px(x), top + ph + 4, grey);
      img.text(px(x) - 8, top + ph + 8, short(x), [0, 0, 0]);
    }
    for (const s of p.series) {
      const pts = s.points
        .filter(([, y]) => Number.isFinite(y))
        .map(([x, y]) => [px(x), top + ph - (y / yMax) * ph] as const);
      for (let i = 1; i < pts.length; i++) img.line(pts[i - 1]![0], pts[i - 1]![1], pts[i]![0], pts[i]![1], s.color, 2);
      for (const [x, y] of pts) img.box(x, y, 3, s.color);
    }
  });
  return encodePng(img);
}
