/**
 * The speaker's BGP listener on one port: routers connect to it (passive peers always, and
 * active peers when their connection races ours, RFC 4271 §6.8). Connections are handed to
 * the session of the peer they come from; anything else is closed. TCP-MD5 keys are set on
 * the listening socket per peer, so accepted connections inherit them; so is the TTL when a
 * peer on the port wants 255 (ebgpMultiHop): the SYN-ACK already carries it, as a router
 * applying TTL security (GTSM) requires.
 *
 * A listen that fails (EACCES without CAP_NET_BIND_SERVICE, EADDRINUSE while another BGP
 * daemon holds the port, EADDRNOTAVAIL before the address is configured) is retried on the
 * injected clock with the jittered exponential backoff the sessions use; `failure()` holds
 * the reason until a retry works, and `onChange` is told whenever it appears or clears.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { backoffDelay, type BackoffOptions } from '../../src/core/backoff.js';
import type { NativeAddon } from '../../native/index.js';
import { wrapSocket, type Connection } from './transport.js';

/** Retries of a failed listen: 1 s doubling to 30 s, jittered (the sessions' backoff function). */
export const LISTEN_RETRY: BackoffOptions = { baseMs: 1000, maxMs: 30_000 };

export interface ListenerOptions {
  readonly port: number;
  /** Default `::` (IPv4 and IPv6). */
  readonly host?: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly random?: () => number;
  readonly native?: NativeAddon;
  /** The names of the peers that use this port, for the log lines of a failed listen. */
  readonly peers?: () => readonly string[];
  /** Told when `failure()` changes (a listen failed, failed differently, or works again). */
  readonly onChange?: () => void;
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

  private retry: TimerHandle | undefined;
  private failedAttempts = 0;
  private closed = false;

  /**
   * Starts listening; resolves after the first attempt. On failure the reason is kept in
   * `failure()`, logged with the peers it affects, and the listen is retried until it works
   * or `close()` is called.
   */
  async start(): Promise<void> {
    await this.attempt();
  }

  private async attempt(): Promise<void> {
    this.retry = undefined;
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
      if (this.closed) return;
      const error = `cannot listen on BGP port ${this.opts.port}: ${errorMessage(err)}`;
      const delay = backoffDelay(this.failedAttempts++, LISTEN_RETRY, this.opts.random ?? Math.random);
      const fields = {
        event: 'listenerFailed',
        port: this.opts.port,
        peers: this.opts.peers?.() ?? [],
        error: errorMessage(err),
        retryInMs: delay,
        attempt: this.failedAttempts,
      };
      if (error !== this.error)
        this.opts.logger.error(
          'listener failed; these peers cannot connect to this node until it works (retrying)',
          fields,
        );
      else this.opts.logger.warn('listener still failing (retrying)', fields);
      const changed = error !== this.error;
      this.error = error;
      this.retry = this.opts.clock.setTimeout(() => void this.attempt(), delay);
      if (changed) this.opts.onChange?.();
      return;
    }
    if (this.closed) {
      server.close();
      return;
    }
    server.on('error', (err) =>
      this.opts.logger.warn('listener error', {
        event: 'listenerError',
        port: this.opts.port,
        error: errorMessage(err),
      }),
    );
    this.server = server;
    const want = this.keys;
    this.keys = new Map();
    this.setKeys(want);
    this.setTtl(this.ttl);
    const recovered = this.error !== undefined;
    this.error = undefined;
    this.failedAttempts = 0;
    this.opts.logger.info(recovered ? 'listening (the failed listen works now)' : 'listening', {
      event: 'listening',
      port: this.opts.port,
      ...(recovered ? { peers: this.opts.peers?.() ?? [] } : {}),
    });
    if (recovered) this.opts.onChange?.();
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
        this.opts.logger.error('cannot set the TCP-MD5 key on the listener without the native addon', {
          event: 'md5Failed',
          peer,
        });
        continue;
      }
      try {
        native.tcpMd5(fd, peer, key);
        this.keys.set(peer, key);
      } catch (err) {
        this.opts.logger.error('could not set the TCP-MD5 key on the listener', {
          event: 'md5Failed',
          peer,
          error: errorMessage(err),
        });
      }
    }
    for (const peer of [...this.keys.keys()]) {
      if (want.has(peer)) continue;
      try {
        native?.tcpMd5(fd, peer, '');
      } catch (err) {
        this.opts.logger.warn('could not remove a TCP-MD5 key from the listener', {
          event: 'md5Failed',
          peer,
          error: errorMessage(err),
        });
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
      this.opts.logger.error('cannot set the TTL on the listener without the native addon', {
        event: 'ttlFailed',
        port: this.opts.port,
      });
      return;
    }
    try {
      this.opts.native.ipTtl(fd, ttl ?? -1);
      this.appliedTtl = ttl;
    } catch (err) {
      this.opts.logger.error('could not set the TTL on the listener', {
        event: 'ttlFailed',
        port: this.opts.port,
        ttl,
        error: errorMessage(err),
      });
    }
  }

  close(): void {
    this.closed = true;
    this.retry?.cancel();
    this.retry = undefined;
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
      this.opts.logger.info('closed a connection from an address that is not a peer of this node', {
        event: 'connectionRefused',
        remote,
        port: this.opts.port,
      });
      socket.destroy();
    }
  }
}
