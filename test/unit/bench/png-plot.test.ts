/** The PNG writer bench/scale uses for its plot (bench/support/png-plot.ts). */
import { expect } from 'chai';
import { inflateSync } from 'node:zlib';
import { encodePng, plotPanels, Raster } from '../../../bench/support/png-plot.js';

/** The chunks of a PNG file, read independently of the encoder. */
function chunks(png: Buffer): { type: string; body: Buffer; crc: number }[] {
  const out: { type: string; body: Buffer; crc: number }[] = [];
  for (let o = 8; o < png.length;) {
    const len = png.readUInt32BE(o);
    out.push({
      type: png.toString('ascii', o + 4, o + 8),
      body: png.subarray(o + 8, o + 8 + len),
      crc: png.readUInt32BE(o + 8 + len),
    });
    o += 12 + len;
  }
  return out;
}

describe('bench: PNG plot', () => {
  it('writes a valid 8-bit RGB PNG whose pixels read back', () => {
    const r = new Raster(4, 3);
    r.set(1, 2, [10, 20, 30]);
    const png = encodePng(r);
    expect([...png.subarray(0, 8)]).to.deep.equal([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const cs = chunks(png);
    expect(cs.map((c) => c.type)).to.deep.equal(['IHDR', 'IDAT', 'IEND']);
    // The CRC of an empty IEND chunk is the constant every PNG ends with.
    expect(cs[2]!.crc).to.equal(0xae426082);
    const ihdr = cs[0]!.body;
    expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9], ihdr[10], ihdr[11], ihdr[12]]).to.deep.equal([
      4, 3, 8, 2, 0, 0, 0,
    ]);
    const raw = inflateSync(cs[1]!.body);
    expect(raw.length).to.equal((4 * 3 + 1) * 3);
    // Row 2, filter byte then pixel 1.
    const row = 2 * 13;
    expect(raw[row]).to.equal(0);
    expect([...raw.subarray(row + 1 + 3, row + 1 + 6)]).to.deep.equal([10, 20, 30]);
    expect([...raw.subarray(row + 1, row + 4)]).to.deep.equal([255, 255, 255]);
  });

  it('draws each series in its colour', () => {
    const png = plotPanels(
      [
        {
          series: [
            {
              color: [200, 0, 0],
              points: [
                [1000, 1],
                [10_000, 5],
                [100_000, NaN],
              ],
            },
          ],
        },
      ],
      [1000, 10_000, 100_000],
    );
    const cs = chunks(png);
    const ihdr = cs[0]!.body;
    const w = ihdr.readUInt32BE(0);
    const raw = inflateSync(cs[1]!.body);
    let red = 0;
    for (let i = 0; i < raw.length; i += 1) {
      const col = (i % (w * 3 + 1)) - 1;
      if (col >= 0 && col % 3 === 0 && raw[i] === 200 && raw[i + 1] === 0 && raw[i + 2] === 0) red++;
    }
    expect(red).to.be.greaterThan(50);
  });
});
