/** How a BGP session reaches its peer: an interface, and the plain TCP implementation. */
import { createConnection, type Socket } from 'node:net';

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
}

export interface Transport {
  connect(opts: ConnectOptions): Promise<Connection>;
}

function wrap(socket: Socket): Connection {
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

/** Plain TCP (no MD5, default TTL). */
export const tcpTransport: Transport = {
  connect: (opts) =>
    new Promise((resolve, reject) => {
      const socket = createConnection({ host: opts.host, port: opts.port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}), noDelay: true });
      const timer = setTimeout(() => socket.destroy(new Error(`connect to ${opts.host}:${opts.port} timed out`)), opts.timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(wrap(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    }),
};
