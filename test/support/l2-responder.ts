/**
 * A Layer 2 responder on one interface inside a namespace, for tests: Herald's native
 * AF_PACKET socket, frame parser and responder decision answering for the IPs on argv, and
 * a gratuitous announcement for each at start. Prints one JSON line per decision.
 */
import { readFileSync } from 'node:fs';
import { loadNative } from '../../native/index.js';
import { parseMAC } from '../../src/net/mac.js';
import { formatIP, parseIP } from '../../src/net/ip.js';
import {
  gratuitousArpReply,
  multicastMac,
  parseFrame,
  solicitedNode,
  unsolicitedAdvertisement,
} from '../../speaker/layer2/frames.js';
import { respond } from '../../speaker/layer2/responder.js';

const [ifname, ...ips] = process.argv.slice(2) as [string, ...string[]];
const mac = parseMAC(readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim());
const native = loadNative();
const sock = new native.PacketSocket(ifname, { arp: true, ndp: true });
const owned = new Map(ips.map((ip) => [formatIP(parseIP(ip)), new Set([ifname])]));
for (const ip of ips.map(parseIP)) if (ip.family === 'IPv6') sock.addMembership(multicastMac(solicitedNode(ip)));
sock.start((frame) => {
  const parsed = parseFrame(frame);
  if (!parsed.ok) {
    process.stdout.write(`${JSON.stringify({ ignored: parsed.reason })}\n`);
    return;
  }
  const r = respond(parsed.packet, ifname, mac, { owned });
  if (r.answer) sock.send(r.frame);
  process.stdout.write(`${JSON.stringify(r.answer ? { answered: formatIP(r.ip) } : { noAnswer: r.reason })}\n`);
});
for (const ip of ips.map(parseIP))
  sock.send(ip.family === 'IPv4' ? gratuitousArpReply(ip, mac) : unsolicitedAdvertisement(ip, mac));
process.stdout.write(
  `${JSON.stringify({ ready: true, mac: [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':') })}\n`,
);
