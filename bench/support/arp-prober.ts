/**
 * An ARP prober inside a namespace, for bench/layer2-flood.ts: `arp-prober.ts IFNAME VIP`
 * asks for VIP every 10 ms from its own AF_PACKET socket (request n from sender address
 * 192.0.2.(150 + n % 50), so each reply names its request) and times the replies in-process.
 * On a `report` line on stdin it prints what happened since the last report: requests,
 * answers, latency p50/p99 in ms. Frames other than replies about VIP are dropped unprinted,
 * so a flood on the LAN does not drown the prober's output.
 */
import { createInterface } from 'node:readline';
import { loadNative } from '../../native/index.js';

const [ifname, vip] = process.argv.slice(2) as [string, string];
const MAC = '0200000002c8';
const ipHex = (ip: string): string =>
  ip
    .split('.')
    .map((x) => Number(x).toString(16).padStart(2, '0'))
    .join('');
const sock = new (loadNative().PacketSocket)(ifname, { arp: true, ndp: false });
const sentAt = new Map<number, number>();
let asked = 0;
let latencies: number[] = [];
const vipBytes = Buffer.from(ipHex(vip), 'hex');
sock.start((f) => {
  if (
    f.length < 42 ||
    f.readUInt16BE(12) !== 0x0806 ||
    f.readUInt16BE(20) !== 2 ||
    !f.subarray(28, 32).equals(vipBytes)
  )
    return;
  const t = sentAt.get(f[41]! - 150);
  if (t === undefined) return;
  sentAt.delete(f[41]! - 150);
  latencies.push(performance.now() - t);
});
let seq = 0;
setInterval(() => {
  const slot = seq++ % 50;
  sentAt.set(slot, performance.now());
  asked++;
  sock.send(
    Buffer.from(
      [
        'ffffffffffff',
        MAC,
        '0806',
        '0001080006040001',
        MAC,
        ipHex(`192.0.2.${150 + slot}`),
        '000000000000',
        ipHex(vip),
      ].join(''),
      'hex',
    ),
  );
}, 10);
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
createInterface({ input: process.stdin }).on('line', (l) => {
  if (l !== 'report') return;
  process.stdout.write(
    `${JSON.stringify({ asked, answered: latencies.length, p50: pct(latencies, 50), p99: pct(latencies, 99) })}\n`,
  );
  asked = 0;
  latencies = [];
});
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
