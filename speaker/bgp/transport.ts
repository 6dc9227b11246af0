/**
 * How a BGP session reaches its peer: an interface, and the plain TCP implementation. A
 * connect that fails on our side rejects with a HeraldError (`Timeout` when the peer never
 * answered, `BgpConnect` otherwise); the kernel's own errors (ECONNREFUSED, …) come as they are.
 */
import { createConnection, Socket } from 'node:net';
import { HeraldError, errorMessage } from '../../src/core/errors.js';

export interface Connection {
  readonly localAddress: string;
  write(data: Buffer): void;
  onData(fn: (data: Buffer) => void): void;
  /** Called once, with the error if the connection failed. */
  onClose(fn: (err?: Error) => void): void;
  destroy(): void;
}

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly timeoutMs: number;
  /** Aborting it destroys the socket and rejects the connect (a newer attempt replaced it). */
  readonly signal?: AbortSignal;
}

export interface Transport {
  connect(opts: ConnectOptions): Promise<Connection>;
}

/** A connected socket as a Connection (also used for connections our listener accepts). */
export function wrapSocket(socket: Socket): Connection {
  let closed = false;
  const closers: ((err?: Error) => void)[] = [];
  let lastError: Error | undefined;
  socket.on('error', (err) => (lastError = err));
  socket.on('close', () => {
    if (closed) return;
    closed = true;
    for (const f of closers) f(lastError);
  });
  return {
    localAddress: socket.localAddress ?? '',
    write: (data) => {
      if (!socket.destroyed) socket.write(data);
    },
    onData: (fn) => socket.on('data', fn),
    onClose: (fn) => closers.push(fn),
    destroy: () => socket.destroy(),
  };
}

/** Resolves with the connection once `socket` connects, or rejects on error or timeout. */
function whenConnected(socket: Socket, opts: ConnectOptions): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => socket.destroy(new HeraldError('Timeout', `connect to ${opts.host}:${opts.port} timed out`)),
      opts.timeoutMs,
    );
    const abort = (): void => {
      socket.destroy(new HeraldError('BgpConnect', `connect to ${opts.host}:${opts.port} aborted`));
    };
    if (opts.signal?.aborted) abort();
    opts.signal?.addEventListener('abort', abort, { once: true });
    socket.once('connect', () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', abort);
      resolve(wrapSocket(socket));
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', abort);
      reject(err);
    });
  });
}

/** Plain TCP (no MD5, default TTL). */
export const tcpTransport: Transport = {
  connect: (opts) =>
    whenConnected(
      createConnection({
        host: opts.host,
        port: opts.port,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
        noDelay: true,
      }),
      opts,
    ),
};

/**
 * TCP with the socket options Node cannot set, through the native addon: TCP-MD5 (RFC 2385)
 * for the peer and an IP TTL (ebgpMultiHop). The key never appears in errors or logs.
 */
export function nativeTcpTransport(
  native: { tcpSocket(family: 4 | 6, opts: { md5Peer?: string; md5Key?: string; ttl?: number }): number },
  opts: { md5Key?: string; ttl?: number },
): Transport {
  return {
    connect: (c) => {
      let fd: number;
      try {
        fd = native.tcpSocket(c.host.includes(':') ? 6 : 4, {
          ...(opts.md5Key ? { md5Peer: c.host, md5Key: opts.md5Key } : {}),
          ...(opts.ttl ? { ttl: opts.ttl } : {}),
        });
      } catch (err) {
        return Promise.reject(
          new HeraldError('BgpConnect', `could not create the BGP socket: ${errorMessage(err)}`, { cause: err }),
        );
      }
      const socket = new Socket({ fd, readable: true, writable: true });
      const connected = whenConnected(socket, c);
      socket.connect({ host: c.host, port: c.port, ...(c.localAddress ? { localAddress: c.localAddress } : {}) });
      return connected;
    },
  };
}
