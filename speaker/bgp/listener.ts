/**
 * The speaker's BGP listener on one port: routers connect to it (passive peers always, and
 * active peers when their connection races ours, RFC 4271 §6.8). Connections are handed to
 * the session of the peer they come from; anything else is closed. TCP-MD5 keys are set on
 * the listening socket per peer, so accepted connections inherit them; so is the TTL when a
 * peer on the port wants 255 (ebgpMultiHop): the SYN-ACK already carries it, as a router
 * applying TTL security (GTSM) requires.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import type { NativeAddon } from '../../native/index.js';
import { wrapSocket, type Connection } from './transport.js';

export interface ListenerOptions {
  readonly port: number;
  /** Default `::` (IPv4 and IPv6). */
  readonly host?: string;
  readonly logger: Logger;
  readonly native?: NativeAddon;
  /** A connection from `remote` (plain IPv4 or IPv6 text); false when no peer has that address. */
  readonly onConnection: (remote: string, conn: Connection) => boolean;
}

export class BgpListener {
  private server: Server | undefined;
  private keys = new Map<string, string>();
  /** Wanted TTL of the listening socket; `applied` is what the socket has. */
  private ttl: number | undefined;
  private appliedTtl: number | undefined;
  private error: string | undefined;

  constructor(private readonly opts: ListenerOptions) {}

  /** Starts listening; on failure the reason is kept in `failure()` and logged. */
  async start(): Promise<void> {
    const server = createServer({ noDelay: true }, (s) => this.accepted(s));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: this.opts.port, host: this.opts.host ?? '::', ipv6Only: false }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.error = `cannot listen on BGP port ${this.opts.port}: ${errorMessage(err)}`;
      this.opts.logger.error('bgp: listener failed; passive peers on this port cannot connect', { port: this.opts.port, error: errorMessage(err) });
      return;
    }
    server.on('error', (err) => this.opts.logger.warn('bgp: listener error', { port: this.opts.port, error: errorMessage(err) }));
    this.server = server;
    const want = this.keys;
    this.keys = new Map();
    this.setKeys(want);
    this.setTtl(this.ttl);
    this.opts.logger.info('bgp: listening', { port: this.opts.port });
  }

  failure(): string | undefined {
    return this.error;
  }

  /** TCP-MD5 keys by peer address; keys no longer wanted are removed from the socket. */
  setKeys(want: ReadonlyMap<string, string>): void {
    const fd = this.fd();
    if (fd === undefined) {
      this.keys = new Map(want);
      return;
    }
    const native = this.opts.native;
    for (const [peer, key] of want) {
      if (this.keys.get(peer) === key) continue;
      if (!native) {
        this.opts.logger.error('bgp: cannot set the TCP-MD5 key on the listener without the native addon', { peer });
        continue;
      }
      try {
        native.tcpMd5(fd, peer, key);
        this.keys.set(peer, key);
      } catch (err) {
        this.opts.logger.error('bgp: could not set the TCP-MD5 key on the listener', { peer, error: errorMessage(err) });
      }
    }
    for (const peer of [...this.keys.keys()]) {
      if (want.has(peer)) continue;
      try {
        native?.tcpMd5(fd, peer, '');
      } catch (err) {
        this.opts.logger.warn('bgp: could not remove a TCP-MD5 key from the listener', { peer, error: errorMessage(err) });
      }
      this.keys.delete(peer);
    }
  }

  /** The TTL of connections on this port (undefined: the system default). */
  setTtl(ttl: number | undefined): void {
    this.ttl = ttl;
    const fd = this.fd();
    if (fd === undefined || ttl === this.appliedTtl) return;
    if (!this.opts.native) {
      this.opts.logger.error('bgp: cannot set the TTL on the listener without the native addon', { port: this.opts.port });
      return;
    }
    try {
      this.opts.native.ipTtl(fd, ttl ?? -1);
      this.appliedTtl = ttl;
    } catch (err) {
      this.opts.logger.error('bgp: could not set the TTL on the listener', { port: this.opts.port, ttl, error: errorMessage(err) });
    }
  }

  close(): void {
    this.server?.close();
    this.server = undefined;
  }

  private fd(): number | undefined {
    const fd = (this.server as unknown as { _handle?: { fd?: number } } | undefined)?._handle?.fd;
    return fd !== undefined && fd >= 0 ? fd : undefined;
  }

  private accepted(socket: Socket): void {
    const remote = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (!this.opts.onConnection(remote, wrapSocket(socket))) {
      this.opts.logger.info('bgp: closed a connection from an address that is not a peer of this node', { remote, port: this.opts.port });
      socket.destroy();
    }
  }
}
