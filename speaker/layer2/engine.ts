/**
 * The Layer 2 engine on one node: AF_PACKET sockets on the selected interfaces, answering
 * ARP/NDP for the IPs this node owns (through the pure responder), and gratuitous
 * announcements when it takes an IP over.
 */
import { networkInterfaces } from 'node:os';
import type { Clock } from '../../src/core/clock.js';
import { errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { cidrContains, cidrOf } from '../../src/net/cidr.js';
import { formatIP, parseIP, tryParseIP, type IP } from '../../src/net/ip.js';
import { parseMAC } from '../../src/net/mac.js';
import type { NativeAddon, PacketSocketHandle } from '../../native/index.js';
import { Announcer } from './announcer.js';
import { describePacket, gratuitousArpReply, gratuitousArpRequest, multicastMac, parseFrame, solicitedNode, unsolicitedAdvertisement } from './frames.js';
import { respond } from './responder.js';

export interface L2EngineOptions {
  readonly native: NativeAddon;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly counters?: { requests: number; answers: number; gratuitous: number; malformed: number };
}

interface Iface {
  readonly name: string;
  readonly mac: Buffer;
  readonly addrs: { ip: IP; prefix: number }[];
}

const VIRTUAL = /^(lo|veth|cni|docker|kube-|flannel|cali|vxlan|tunl|virbr|br-)/;

export function listInterfaces(): Iface[] {
  return Object.entries(networkInterfaces())
    .map(([name, addrs]) => ({
      name,
      mac: parseMAC((addrs ?? [])[0]?.mac ?? '00:00:00:00:00:00'),
      addrs: (addrs ?? []).filter((a) => !a.internal).map((a) => ({ ip: parseIP(a.address.replace(/%.*$/, '')), prefix: Number(a.cidr?.split('/')[1] ?? 32) })),
    }))
    .filter((i) => i.name !== 'lo');
}

/** The interfaces to answer on: the advertisement's, else those whose subnet holds the IP, else every non-virtual one. */
export function selectInterfaces(ip: IP, wanted: readonly string[], ifaces: readonly Iface[]): string[] {
  if (wanted.length > 0) return ifaces.filter((i) => wanted.includes(i.name)).map((i) => i.name);
  const onSubnet = ifaces.filter((i) => i.addrs.some((a) => a.ip.family === ip.family && cidrContains(cidrOf(a.ip, a.prefix), ip)));
  if (onSubnet.length > 0) return onSubnet.map((i) => i.name);
  return ifaces.filter((i) => !VIRTUAL.test(i.name)).map((i) => i.name);
}

export class L2Engine {
  private readonly sockets = new Map<string, { sock: PacketSocketHandle; mac: Buffer; groups: Set<string> }>();
  private owned = new Map<string, Set<string>>();
  private readonly announcer: Announcer;
  readonly counters;

  constructor(private readonly opts: L2EngineOptions) {
    this.counters = opts.counters ?? { requests: 0, answers: 0, gratuitous: 0, malformed: 0 };
    this.announcer = new Announcer({ clock: opts.clock, send: (ip, ifname) => this.sendGratuitous(ip, ifname) });
  }

  /** IP text -> the interfaces to answer on ([] = choose). Returns the IPs taken over. */
  /**
   * `failed` lists owned IPs that cannot be announced anywhere (no selected interface exists,
   * or none could be opened), with the cause.
   */
  setOwned(want: ReadonlyMap<string, readonly string[]>): { taken: string[]; released: string[]; failed: Map<string, string> } {
    const ifaces = listInterfaces();
    const next = new Map<string, Set<string>>();
    for (const [ipText, wanted] of want) {
      const ip = tryParseIP(ipText);
      if (!ip) continue;
      next.set(ipText, new Set(selectInterfaces(ip, wanted, ifaces)));
    }
    const taken: string[] = [];
    const released: string[] = [];
    const failed = new Map<string, string>();
    for (const [ipText, set] of this.owned) {
      for (const ifname of set) if (!next.get(ipText)?.has(ifname)) this.announcer.stop(parseIP(ipText), ifname);
      if (!next.has(ipText)) released.push(ipText);
    }
    this.owned = next;
    for (const [ipText, set] of next) {
      const ip = parseIP(ipText);
      if (set.size === 0) failed.set(ipText, `none of the interfaces ${JSON.stringify(want.get(ipText) ?? [])} exists on this node`);
      let opened = 0;
      for (const ifname of set) {
        const s = this.ensureSocket(ifname, ifaces);
        if (!s) continue;
        opened++;
        if (ip.family === 'IPv6') {
          const group = multicastMac(solicitedNode(ip)).toString('hex');
          if (!s.groups.has(group)) {
            s.sock.addMembership(Buffer.from(group, 'hex'));
            s.groups.add(group);
          }
        }
      }
      if (set.size > 0 && opened === 0) failed.set(ipText, `could not open ${[...set].join(', ')} (see the speaker log)`);
      if (!this.wasOwned.has(ipText)) {
        // Taken over here: announce at once, then repeat.
        taken.push(ipText);
        for (const ifname of set) if (this.sockets.has(ifname)) this.announcer.announce(ip, ifname);
      }
    }
    this.wasOwned = new Set(next.keys());
    return { taken, released, failed };
  }

  private wasOwned = new Set<string>();

  private ensureSocket(ifname: string, ifaces: readonly Iface[]): { sock: PacketSocketHandle; mac: Buffer; groups: Set<string> } | undefined {
    const have = this.sockets.get(ifname);
    if (have) return have;
    const iface = ifaces.find((i) => i.name === ifname);
    if (!iface) return undefined;
    try {
      const sock = new this.opts.native.PacketSocket(ifname, { arp: true, ndp: true });
      const entry = { sock, mac: iface.mac, groups: new Set<string>() };
      sock.start((frame) => this.onFrame(ifname, entry.mac, sock, frame));
      this.sockets.set(ifname, entry);
      this.opts.logger.info('layer2: listening', { interface: ifname });
      return entry;
    } catch (err) {
      this.opts.logger.error('layer2: cannot open the interface', { interface: ifname, error: errorMessage(err) });
      return undefined;
    }
  }

  private onFrame(ifname: string, mac: Buffer, sock: PacketSocketHandle, frame: Buffer): void {
    const parsed = parseFrame(frame);
    if (!parsed.ok) {
      this.counters.malformed++;
      return;
    }
    this.counters.requests++;
    const r = respond(parsed.packet, ifname, mac, { owned: this.owned });
    if (!r.answer) return;
    try {
      sock.send(r.frame);
      this.counters.answers++;
    } catch (err) {
      this.opts.logger.warn('layer2: send failed', { interface: ifname, request: describePacket(parsed.packet), error: errorMessage(err) });
    }
  }

  private sendGratuitous(ip: IP, ifname: string): void {
    const s = this.sockets.get(ifname);
    if (!s) return;
    try {
      if (ip.family === 'IPv4') {
        s.sock.send(gratuitousArpRequest(ip, s.mac));
        s.sock.send(gratuitousArpReply(ip, s.mac));
      } else s.sock.send(unsolicitedAdvertisement(ip, s.mac));
      this.counters.gratuitous++;
    } catch (err) {
      this.opts.logger.warn('layer2: gratuitous announcement failed', { ip: formatIP(ip), interface: ifname, error: errorMessage(err) });
    }
  }

  owns(): Map<string, string[]> {
    return new Map([...this.owned].map(([ip, set]) => [ip, [...set].sort()]));
  }

  close(): void {
    this.announcer.stopAll();
    for (const s of this.sockets.values()) s.sock.close();
    this.sockets.clear();
    this.owned.clear();
  }
}
