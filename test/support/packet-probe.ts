/**
 * Opens Herald's AF_PACKET socket on an interface inside a namespace for tests: prints each
 * received frame as a hex JSON line, and each socket error (with the socket's counters);
 * sends frames given as hex lines on stdin.
 */
import { createInterface } from 'node:readline';
import { loadNative } from '../../native/index.js';

const ifname = process.argv[2]!;
const native = loadNative();
const sock = new native.PacketSocket(ifname, { arp: true, ndp: true });
sock.start(
  (frame) => process.stdout.write(`${JSON.stringify({ frame: frame.toString('hex') })}\n`),
  (error) => process.stdout.write(`${JSON.stringify({ error, stats: sock.stats() })}\n`),
);
process.stdout.write(`${JSON.stringify({ ready: true, ifindex: sock.ifindex })}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'close') {
    sock.close();
    process.exit(0);
  }
  if (line.startsWith('join ')) sock.addMembership(Buffer.from(line.slice(5), 'hex'));
  else sock.send(Buffer.from(line, 'hex'));
});
