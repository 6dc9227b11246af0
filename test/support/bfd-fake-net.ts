/**
 * A recording fake of BFD's UDP sockets: datagrams between hosts of one FakeClock, delivered
 * one tick later with a TTL of 255 minus `hops`; links can be cut. Every sent datagram is kept.
 */
import type { FakeClock } from '../../src/core/clock.js';
import type { BfdPacketHandler, BfdSockets } from '../../speaker/bfd/sockets.js';

export interface SentDatagram {
  readonly from: string;
  readonly srcPort: number;
  readonly to: string;
  readonly port: number;
  readonly ttl: number;
  readonly at: number;
  readonly data: Buffer;
}

export class FakeBfdNet {
  readonly sent: SentDatagram[] = [];
  private readonly receivers = new Map<string, BfdPacketHandler>();
  private readonly bound = new Set<string>();
  /** Hosts whose traffic is dropped, both ways. */
  readonly cut = new Set<string>();
  hops = 0;

  constructor(private readonly clock: FakeClock) {}

  host(address: string): BfdSockets {
    return {
      receiver: (_family, port, onPacket) => {
        const key = `${address}|${port}`;
        if (this.receivers.has(key)) throw Object.assign(new Error(`port ${port} in use`), { code: 'EADDRINUSE' });
        this.receivers.set(key, onPacket);
        return { close: () => this.receivers.delete(key) };
      },
      sender: (_family, o) => {
        const key = `${o.localAddress ?? address}|${o.port}`;
        if (this.bound.has(key)) throw Object.assign(new Error(`port ${o.port} in use`), { code: 'EADDRINUSE' });
        this.bound.add(key);
        return {
          send: (data, to, port) => {
            const d = {
              from: o.localAddress ?? address,
              srcPort: o.port,
              to,
              port,
              ttl: o.ttl,
              at: this.clock.now(),
              data: Buffer.from(data),
            };
            this.sent.push(d);
            if (this.cut.has(d.from) || this.cut.has(to)) return;
            this.clock.setTimeout(
              () => this.receivers.get(`${to}|${port}`)?.(d.data, d.from, d.srcPort, d.ttl - this.hops),
              0,
            );
          },
          close: () => this.bound.delete(key),
        };
      },
    };
  }

  /** Delivers a datagram as if `from` had sent it. */
  inject(to: string, port: number, data: Buffer, from: string, ttl: number): void {
    this.receivers.get(`${to}|${port}`)?.(data, from, 50000, ttl);
  }
}
