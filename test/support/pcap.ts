/** Reads the frames of a classic pcap file (libpcap format, Ethernet link type), for tests. */
import { readFileSync } from 'node:fs';

export function readPcap(path: string): Buffer[] {
  const data = readFileSync(path);
  const magic = data.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && data.readUInt32BE(0) !== 0xa1b2c3d4 && data.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${path}: not a pcap file`);
  const u32 = (off: number): number => (le ? data.readUInt32LE(off) : data.readUInt32BE(off));
  if (u32(20) !== 1) throw new Error(`${path}: link type ${u32(20)}, not Ethernet`);
  const frames: Buffer[] = [];
  for (let off = 24; off + 16 <= data.length; ) {
    const captured = u32(off + 8);
    frames.push(data.subarray(off + 16, off + 16 + captured));
    off += 16 + captured;
  }
  return frames;
}
