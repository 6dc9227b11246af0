/**
 * The UDP sockets BFD needs, behind a small interface so that everything above runs in tests
 * without root: a receiver that reports each datagram's TTL (GTSM, RFC 5881 §5), and a
 * sender with a fixed source port and TTL. The native implementation uses Herald's addon
 * (Node's dgram can neither see the received TTL nor set the TTL of every packet).
 */
import type { NativeAddon } from '../../native/index.js';

export type BfdPacketHandler = (data: Buffer, address: string, port: number, ttl: number) => void;

export interface BfdReceiver {
  close(): void;
}

export interface BfdSender {
  send(data: Buffer, address: string, port: number): void;
  close(): void;
}

export interface BfdSockets {
  /** Listens on every address of the family; throws when the port cannot be bound. */
  receiver(family: 4 | 6, port: number, onPacket: BfdPacketHandler): BfdReceiver;
  /** Throws an error with code EADDRINUSE when the source port is taken. */
  sender(family: 4 | 6, opts: { localAddress?: string; port: number; ttl: number }): BfdSender;
}

export function nativeBfdSockets(native: NativeAddon): BfdSockets {
  return {
    receiver: (family, port, onPacket) => native.udpTtlSocket({ family, port }, onPacket),
    sender: (family, o) => {
      const s = native.udpTtlSocket({
        family,
        port: o.port,
        ttl: o.ttl,
        ...(o.localAddress ? { address: o.localAddress } : {}),
      });
      return { send: (d, a, p) => void s.send(d, a, p), close: () => s.close() };
    },
  };
}
