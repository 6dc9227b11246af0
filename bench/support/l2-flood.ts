/**
 * A bounded Layer 2 flood from inside a namespace, for bench/layer2-flood.ts:
 * `l2-flood.ts IFNAME RATE SECONDS VIP` sends RATE frames a second for SECONDS seconds and
 * stops: a mix of malformed ARP, ARP requests and Neighbor Solicitations for addresses nobody
 * here owns, and (one frame in ten) ARP requests for VIP from this host's one MAC, which the
 * speaker must answer at its per-asker rate only. Prints one JSON line when done: frames sent
 * and the rate reached. Documentation addresses only.
 */
import { loadNative } from '../../native/index.js';

const [ifname, rateText, secondsText, vip] = process.argv.slice(2) as [string, string, string, string];
const rate = Number(rateText);
const seconds = Number(secondsText);
const sock = new (loadNative().PacketSocket)(ifname, { arp: false, ndp: false });
const MY_MAC = '020000000bad';
const hex = (parts: string[]): Buffer => Buffer.from(parts.join(''), 'hex');
const ipHex = (ip: string): string =>
  ip
    .split('.')
    .map((x) => Number(x).toString(16).padStart(2, '0'))
    .join('');

const frames: Buffer[] = [];
// ARP requests for addresses nobody on the LAN owns (192.0.2.100–.149), from varying MACs.
for (let i = 0; i < 50; i++) {
  const mac = `0200000c${i.toString(16).padStart(4, '0')}`;
  frames.push(
    hex([
      'ffffffffffff',
      mac,
      '0806',
      '0001080006040001',
      mac,
      ipHex('192.0.2.250'),
      '000000000000',
      ipHex(`192.0.2.${100 + i}`),
    ]),
  );
}
// Malformed ARP: a wrong hardware type, a wrong length, a truncated packet.
frames.push(
  hex(['ffffffffffff', MY_MAC, '0806', '0006080006040001', MY_MAC, ipHex('192.0.2.250'), '000000000000', ipHex(vip)]),
);
frames.push(
  hex(['ffffffffffff', MY_MAC, '0806', '0001080008040001', MY_MAC, ipHex('192.0.2.250'), '000000000000', ipHex(vip)]),
);
frames.push(hex(['ffffffffffff', MY_MAC, '0806', '00010800060400']));
// A Neighbor Solicitation for 2001:db8::99 (nobody's), hop limit 255, to its solicited-node group (checksum left wrong: dropped on the checksum).
frames.push(
  hex([
    '3333ff000099',
    MY_MAC,
    '86dd',
    '6000000000203aff',
    'fe800000000000000000000000000bad',
    'ff0200000000000000000001ff000099',
    '87000000',
    '00000000',
    '20010db8000000000000000000000099',
    '0101',
    MY_MAC,
  ]),
);
const base = frames.length;
// Requests for the VIP from this one MAC: one frame in ten overall.
const forVip = hex([
  'ffffffffffff',
  MY_MAC,
  '0806',
  '0001080006040001',
  MY_MAC,
  ipHex('192.0.2.250'),
  '000000000000',
  ipHex(vip),
]);
for (let i = 0; i < base / 9; i++) frames.push(forVip);

let sent = 0;
const start = performance.now();
const end = start + seconds * 1000;
const tick = (): void => {
  const now = performance.now();
  if (now >= end) {
    process.stdout.write(
      `${JSON.stringify({ sent, seconds: (now - start) / 1000, rate: Math.round(sent / ((now - start) / 1000)) })}\n`,
    );
    sock.close();
    process.exit(0);
  }
  // Catch up to where the rate says we should be.
  const due = Math.floor(((now - start) / 1000) * rate) - sent;
  for (let i = 0; i < due; i++) {
    try {
      sock.send(frames[(sent + i) % frames.length]!);
    } catch {
      // A full device queue: the frame is lost, as on a real flood.
    }
  }
  sent += Math.max(0, due);
  setImmediate(tick);
};
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
tick();
