/**
 * A plain-HTTP proxy in front of a test cluster's API server (the embedded one, or a real
 * kube-apiserver over TLS) that can hold requests: while `hold` matches a request, it is
 * read and kept, never forwarded and never answered (as a server that stopped answering).
 * `release()` drops the held connections. Works the same on both lanes, so a test can make
 * one kind of write hang on a real server, which has no fault injection. `tls` serves HTTPS
 * (e.g. with the real server's own certificate); without it the kubeconfig turns TLS checks
 * off, since client-node refuses plain HTTP otherwise. Response headers are passed on at
 * once: a watch whose headers never arrive cannot be aborted by the client (its process
 * then waits for the server's watch timeout to exit).
 */
import {
  request as httpRequest,
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface HeldRequest {
  readonly method: string;
  readonly path: string;
  readonly body: string;
}

export interface HoldingProxy {
  readonly url: string;
  /** A kubeconfig with the cluster's user that talks to the proxy. */
  kubeconfig(): string;
  /** Requests for which this returns true are held; undefined forwards everything. */
  hold: ((method: string, path: string) => boolean) | undefined;
  /** Requests held so far (and not released). */
  readonly held: HeldRequest[];
  /** Ends every held request's connection (the client sees it drop) and forgets them. */
  release(): void;
  close(): Promise<void>;
}

/** `unixSocket`: also serve on this Unix socket (programs in a network namespace reach it through lab/ns-forwarder.ts). */
export async function startHoldingProxy(
  kc: KubeConfig,
  tls?: { cert: Buffer; key: Buffer },
  opts: { readonly unixSocket?: string } = {},
): Promise<HoldingProxy> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const upstream = new URL(cluster.server);
  const ca = cluster.caData
    ? Buffer.from(cluster.caData, 'base64')
    : cluster.caFile
      ? readFileSync(cluster.caFile)
      : undefined;
  const heldSockets: ServerResponse[] = [];
  const held: HeldRequest[] = [];
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const opts = {
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: upstream.host },
    };
    const up = upstream.protocol === 'https:' ? httpsRequest({ ...opts, ...(ca ? { ca } : {}) }) : httpRequest(opts);
    up.on('response', (r) => {
      // One request per connection: an idle kept-alive connection to the proxy must not
      // outlive the client's own view of it.
      res.shouldKeepAlive = false;
      const headers = { ...r.headers };
      delete headers['connection'];
      delete headers['keep-alive'];
      res.writeHead(r.statusCode ?? 502, headers);
      // Node holds the headers until the first body byte; a watch may send none for minutes.
      res.flushHeaders();
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    up.end(body);
  };
  const proxy: HoldingProxy = {
    url: '',
    hold: undefined,
    held,
    kubeconfig: () => {
      const out = new KubeConfig();
      const user = kc.getCurrentUser()!;
      const cert = tls && cluster.caData ? { caData: cluster.caData } : { skipTLSVerify: true };
      out.loadFromOptions({
        clusters: [{ name: 'proxy', server: proxy.url, ...cert }],
        users: [user],
        contexts: [{ name: 'proxy', cluster: 'proxy', user: user.name }],
        currentContext: 'proxy',
      });
      return out.exportConfig();
    },
    release: () => {
      for (const r of heldSockets.splice(0)) r.destroy();
      held.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        proxy.release();
        let open = servers.length;
        for (const server of servers) {
          server.closeAllConnections();
          server.close(() => --open === 0 && resolve());
        }
      }),
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (proxy.hold?.(req.method ?? 'GET', req.url ?? '/')) {
        held.push({ method: req.method ?? 'GET', path: req.url ?? '/', body: body.toString() });
        heldSockets.push(res);
        return;
      }
      forward(req, res, body);
    });
  };
  const listen = (): Server => (tls ? createHttpsServer(tls, handle) : createServer(handle));
  const server = listen();
  const servers: Server[] = [server];
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  if (opts.unixSocket) {
    const onSocket = listen();
    servers.push(onSocket);
    await new Promise<void>((resolve) => onSocket.listen(opts.unixSocket, resolve));
  }
  (proxy as { url: string }).url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
