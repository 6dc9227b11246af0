/**
 * All BFD sessions of one node over UDP: RFC 5881 single-hop on port 3784 (sent with TTL 255,
 * received packets with any other TTL discarded) and RFC 5883 multi-hop on 4784 (received TTL
 * at least the profile's minimumTtl). One receiving socket per family and port, shared by the
 * sessions; one sending socket per session, on its own source port in 49152–65535.
 * Received packets are demultiplexed by Your Discriminator, else by the peer's address
 * (RFC 5880 §6.8.6).
 */
import type { Clock } from '../../src/core/clock.js';
import { errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { formatIP, tryParseIP } from '../../src/net/ip.js';
import {
  decodeControl,
  PORT_MULTI_HOP,
  PORT_SINGLE_HOP,
  SINGLE_HOP_TTL,
  SOURCE_PORT_MAX,
  SOURCE_PORT_MIN,
  type BfdState,
} from './packet.js';
import { BfdSession, type BfdTimers } from './session.js';
import type { BfdSockets, BfdReceiver, BfdSender } from './sockets.js';

export interface BfdPeerSpec {
  /** Unique per session (the BGPPeer name). */
  readonly key: string;
  readonly peerAddress: string;
  readonly localAddress?: string;
  /** RFC 5883 (ebgpMultiHop peers). */
  readonly multiHop: boolean;
  /** Multi-hop only: the least TTL a received packet may have. */
  readonly minimumTtl: number;
  readonly timers: BfdTimers;
}

export interface BfdEngineOptions {
  readonly sockets: BfdSockets;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
}

interface Entry {
  readonly spec: BfdPeerSpec;
  readonly session: BfdSession;
  readonly sender: BfdSender;
  readonly receiverKey: string;
  readonly log: Logger;
  toldTtl: boolean;
}

function family(address: string): 4 | 6 {
  return tryParseIP(address)?.family === 'IPv6' ? 6 : 4;
}

function normalize(address: string): string {
  const ip = tryParseIP(address);
  return ip ? formatIP(ip) : address;
}

export class BfdEngine {
  private readonly byKey = new Map<string, Entry>();
  private readonly byDiscr = new Map<number, Entry>();
  private readonly byPeer = new Map<string, Entry>();
  private readonly receivers = new Map<string, { receiver: BfdReceiver; users: number }>();
  private malformed = 0;

  constructor(private readonly opts: BfdEngineOptions) {}

  /** Starts a session, or says why it cannot run (a port that cannot be bound). */
  add(spec: BfdPeerSpec, onChange: (state: BfdState, diag: number) => void): BfdSession | string {
    if (this.byKey.has(spec.key)) return `a BFD session named ${spec.key} already exists`;
    const peer = normalize(spec.peerAddress);
    const port = spec.multiHop ? PORT_MULTI_HOP : PORT_SINGLE_HOP;
    const peerKey = `${port}|${peer}`;
    if (this.byPeer.has(peerKey)) return `another BGPPeer already runs BFD to ${peer}`;
    const fam = family(peer);
    const receiverKey = `${fam}|${port}`;
    let rx = this.receivers.get(receiverKey);
    if (!rx) {
      try {
        rx = {
          receiver: this.opts.sockets.receiver(fam, port, (d, a, _p, ttl) => this.onPacket(port, d, a, ttl)),
          users: 0,
        };
      } catch (err) {
        return `cannot receive BFD on UDP port ${port}: ${errorMessage(err)}`;
      }
      this.receivers.set(receiverKey, rx);
    }
    let sender: BfdSender | undefined;
    let lastErr = '';
    // RFC 5881 §4: a source port in 49152–65535, unique per session where possible.
    for (let i = 0; i < 32 && !sender; i++) {
      const srcPort = SOURCE_PORT_MIN + Math.floor(this.opts.random() * (SOURCE_PORT_MAX - SOURCE_PORT_MIN + 1));
      try {
        sender = this.opts.sockets.sender(fam, {
          ...(spec.localAddress ? { localAddress: spec.localAddress } : {}),
          port: srcPort,
          ttl: SINGLE_HOP_TTL,
        });
      } catch (err) {
        lastErr = errorMessage(err);
        if ((err as { code?: string }).code !== 'EADDRINUSE') break;
      }
    }
    if (!sender) {
      if (rx.users === 0) this.dropReceiver(receiverKey);
      return `cannot open a BFD socket to ${peer}: ${lastErr}`;
    }
    rx.users++;
    let discr = 0;
    while (discr === 0 || this.byDiscr.has(discr)) discr = (Math.floor(this.opts.random() * 0xffffffff) + 1) >>> 0;
    const log = this.opts.logger.child({
      peer: spec.key,
      peerAddress: peer,
      bfd: spec.multiHop ? 'multihop' : 'singlehop',
    });
    const out = sender;
    const session = new BfdSession({
      localDiscr: discr,
      timers: spec.timers,
      clock: this.opts.clock,
      random: this.opts.random,
      logger: log,
      send: (b) => {
        try {
          out.send(b, peer, port);
        } catch (err) {
          // No route or a down link: the peer's detection timer reports it; ours too.
          log.debug('send failed', { error: errorMessage(err) });
        }
      },
      onChange,
    });
    const entry: Entry = { spec, session, sender, receiverKey, log, toldTtl: false };
    this.byKey.set(spec.key, entry);
    this.byDiscr.set(discr, entry);
    this.byPeer.set(peerKey, entry);
    session.start();
    return session;
  }

  /** Ends a session: AdminDown is sent first, so the peer sees no failure (§6.8.16). */
  remove(key: string): void {
    const e = this.byKey.get(key);
    if (!e) return;
    e.session.stop();
    e.session.close();
    e.sender.close();
    this.byKey.delete(key);
    for (const [d, x] of this.byDiscr) if (x === e) this.byDiscr.delete(d);
    for (const [k, x] of this.byPeer) if (x === e) this.byPeer.delete(k);
    const rx = this.receivers.get(e.receiverKey);
    if (rx && --rx.users <= 0) this.dropReceiver(e.receiverKey);
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }

  get(key: string): BfdSession | undefined {
    return this.byKey.get(key)?.session;
  }

  /** Packets that did not decode, over all sessions. */
  malformedPackets(): number {
    return this.malformed;
  }

  stopAll(): void {
    for (const key of [...this.byKey.keys()]) this.remove(key);
  }

  private dropReceiver(key: string): void {
    this.receivers.get(key)?.receiver.close();
    this.receivers.delete(key);
  }

  private onPacket(port: number, data: Buffer, from: string, ttl: number): void {
    let p;
    try {
      p = decodeControl(data);
    } catch (err) {
      this.malformed++;
      this.opts.logger.debug('malformed packet discarded', { from, error: errorMessage(err) });
      return;
    }
    const peer = normalize(from);
    const e = p.yourDiscriminator !== 0 ? this.byDiscr.get(p.yourDiscriminator) : this.byPeer.get(`${port}|${peer}`);
    if (!e || normalize(e.spec.peerAddress) !== peer || (port === PORT_MULTI_HOP) !== e.spec.multiHop) return;
    const minTtl = e.spec.multiHop ? e.spec.minimumTtl : SINGLE_HOP_TTL;
    if (ttl < minTtl) {
      e.session.stats.packetsDiscarded++;
      if (!e.toldTtl) {
        e.toldTtl = true;
        e.log.error(
          e.spec.multiHop
            ? `bfd: packets arrive with TTL ${ttl}, below the BFDProfile's minimumTtl ${minTtl}: discarded (RFC 5883)`
            : `bfd: packets arrive with TTL ${ttl}, not 255: discarded (RFC 5881 §5; is the peer more than one hop away? then set ebgpMultiHop)`,
        );
      }
      return;
    }
    e.session.receive(p);
  }
}
