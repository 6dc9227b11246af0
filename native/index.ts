/**
 * Loads Herald's native addon (built by `npm install` from binding.gyp). When it cannot be
 * loaded, callers get a NativeUnavailable error that names the cause; BGP without MD5 and
 * everything else keep working.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeraldError } from '../src/core/errors.js';

export interface PacketSocketHandle {
  readonly ifindex: number;
  /**
   * Frames arrive on `onFrame`. A socket error (ENETDOWN on link down, …) is cleared,
   * reported on `onError` and reading goes on.
   */
  start(onFrame: (frame: Buffer) => void, onError?: (message: string) => void): void;
  send(frame: Buffer): number;
  addMembership(mac: Buffer): void;
  /**
   * With arpRequestsOnly: only ARP requests for these IPv4 addresses (host-order numbers)
   * pass the kernel filter; null, or more than 200, lets every request through. Returns
   * whether the list is in force.
   */
  setArpTargets(targets: readonly number[] | null): boolean;
  /** Frames handed over, socket errors seen, bytes waiting in the kernel's receive queue, frames dropped on a full queue. */
  stats(): { received: number; errors: number; queued: number; drops: number };
  close(): void;
}

/** NETLINK_ROUTE, subscribed to link and address notifications. */
export interface NetlinkSocketHandle {
  /** Each datagram (one or more netlink messages) on `onMessages`; ENOBUFS and other errors on `onError`. */
  start(onMessages: (datagram: Buffer) => void, onError?: (message: string) => void): void;
  /** Sends a request (e.g. an RTM_GETLINK dump). */
  send(request: Buffer): number;
  close(): void;
}

/** A UDP socket that sends with a fixed TTL / hop limit and sees each datagram's received TTL (BFD). */
export interface UdpTtlSocketHandle {
  /** The bound local port. */
  readonly port: number;
  send(data: Buffer, address: string, port: number): number;
  close(): void;
}

export type UdpTtlMessageHandler = (data: Buffer, address: string, port: number, ttl: number) => void;

export interface NativeAddon {
  PacketSocket: new (
    ifname: string,
    opts?: { arp?: boolean; ndp?: boolean; arpRequestsOnly?: boolean },
  ) => PacketSocketHandle;
  NetlinkSocket: new () => NetlinkSocketHandle;
  tcpSocket(family: 4 | 6, opts: { md5Peer?: string; md5Key?: string; ttl?: number }): number;
  /** Sets (empty key: removes) one peer's TCP-MD5 key on an existing socket, e.g. a listener. */
  tcpMd5(fd: number, peer: string, key: string): void;
  /** Sets the IP TTL / hop limit (-1: the system default) of an existing socket, e.g. a listener. */
  ipTtl(fd: number, ttl: number): void;
  /** Throws with code EADDRINUSE when the port is taken. Without onMessage the socket only sends. */
  udpTtlSocket(
    opts: { family: 4 | 6; address?: string; port?: number; ttl?: number },
    onMessage?: UdpTtlMessageHandler,
  ): UdpTtlSocketHandle;
}

let cached: { addon?: NativeAddon; error?: HeraldError } | undefined;

function candidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  // native/index.ts in a checkout; dist/native/index.js in a build.
  return [
    join(here, '..', 'build', 'Release', 'herald_native.node'),
    join(here, '..', '..', 'build', 'Release', 'herald_native.node'),
  ];
}

export function loadNative(): NativeAddon {
  if (!cached) {
    const path = candidates().find((p) => existsSync(p));
    if (!path) {
      cached = {
        error: new HeraldError(
          'NativeUnavailable',
          `Herald's native addon is not built (looked for ${candidates().join(', ')}); run "npm install" with a C++ compiler available`,
        ),
      };
    } else {
      try {
        cached = { addon: createRequire(import.meta.url)(path) as NativeAddon };
      } catch (err) {
        cached = {
          error: new HeraldError(
            'NativeUnavailable',
            `Herald's native addon failed to load from ${path}: ${(err as Error).message}`,
            { cause: err },
          ),
        };
      }
    }
  }
  if (cached.error) throw cached.error;
  return cached.addon!;
}

/** Whether the addon loads, and why not. */
export function nativeStatus(): { ok: true } | { ok: false; reason: string } {
  try {
    loadNative();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}
