/** Reads the frames of a classic pcap file (libpcap format, Ethernet link type), for tests. */
import { readFileSync } from 'node:fs';

export function readPcap(path: string): Buffer[] {
  const data = readFileSync(path);
  const magic = data.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && data.readUInt32BE(0) !== 0xa1b2c3d4 && data.readUInt32BE(0) !== 0xa1b23c4d)
    throw new Error(`${path}: not a pcap file`);
  const u32 = (off: number): number => (le ? data.readUInt32LE(off) : data.readUInt32BE(off));
  if (u32(20) !== 1) throw new Error(`${path}: link type ${u32(20)}, not Ethernet`);
  const frames: Buffer[] = [];
  for (let off = 24; off + 16 <= data.length;) {
    const captured = u32(off + 8);
    frames.push(data.subarray(off + 16, off + 16 + captured));
    off += 16 + captured;
  }
  return frames;
}

/**
 * The TCP byte stream one side sent, from captured Ethernet/IPv4 frames: the segments from
 * `src` with that source port (a number) or destination port ({ dst }), in sequence order
 * (relative to the first segment seen, so a wrap of the 32-bit sequence number is harmless),
 * each byte once (retransmissions dropped). A hole (a segment the capture missed) throws:
 * the bytes after it cannot be framed.
 */
export function tcpStream(frames: readonly Buffer[], src: string, port: number | { readonly dst: number }): Buffer {
  const segments = new Map<number, Buffer>();
  let base: number | undefined;
  for (const f of frames) {
    if (f.length < 34 || f.readUInt16BE(12) !== 0x0800) continue;
    const ip = f.subarray(14);
    if (ip[9] !== 6) continue;
    if ([...ip.subarray(12, 16)].join('.') !== src) continue;
    const ihl = (ip[0]! & 0x0f) * 4;
    const total = ip.readUInt16BE(2);
    const tcp = ip.subarray(ihl, total);
    if (typeof port === 'number' ? tcp.readUInt16BE(0) !== port : tcp.readUInt16BE(2) !== port.dst) continue;
    const payload = tcp.subarray((tcp[12]! >> 4) * 4);
    if (payload.length === 0) continue;
    base ??= tcp.readUInt32BE(4);
    segments.set((tcp.readUInt32BE(4) - base) >>> 0, payload);
  }
  const offsets = [...segments.keys()].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let next = 0;
  for (const s of offsets) {
    const p = segments.get(s)!;
    if (s > next) throw new Error(`the capture misses ${s - next} bytes of the stream from ${src} after byte ${next}`);
    if (s + p.length <= next) continue;
    out.push(p.subarray(next - s));
    next = s + p.length;
  }
  return Buffer.concat(out);
}

/** The frames of a classic pcap file with their capture time (milliseconds since the epoch). */
export function readPcapTimed(path: string): { ms: number; frame: Buffer }[] {
  const data = readFileSync(path);
  if (data.length < 24) return [];
  const magic = data.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nano = (le ? magic : data.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (off: number): number => (le ? data.readUInt32LE(off) : data.readUInt32BE(off));
  const out: { ms: number; frame: Buffer }[] = [];
  for (let off = 24; off + 16 <= data.length;) {
    const captured = u32(off + 8);
    if (off + 16 + captured > data.length) break; // a record cut short by the capture ending
    out.push({
      ms: u32(off) * 1000 + u32(off + 4) / (nano ? 1e6 : 1e3),
      frame: data.subarray(off + 16, off + 16 + captured),
    });
    off += 16 + captured;
  }
  return out;
}
