/**
 * Prometheus registry factory and the small server every Herald program exposes: /metrics,
 * /healthz (the process is alive) and /readyz (caches synced, leader or not). Secured, it
 * serves HTTPS and /metrics only to a bearer token the API server authenticates and
 * authorizes (metrics-auth.ts); /healthz and /readyz stay open, as kubelet's probes carry
 * no token (kube-controller-manager's secure port does the same).
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { statSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Logger } from './core/logger.js';
import type { RequestAuthorizer } from './metrics-auth.js';
import { loadCertificateFiles, type ServingCertificate } from './tls.js';
import { errorMessage } from './core/errors.js';

export function createMetricsRegistry(
  opts: { defaultMetrics?: boolean; labels?: Record<string, string> } = {},
): Registry {
  const registry = new Registry();
  if (opts.labels) registry.setDefaultLabels(opts.labels);
  // The event-loop lag histogram samples on a timer: every 100 ms, not prom-client's default
  // 10 ms, which alone woke an idle speaker 100 times a second.
  if (opts.defaultMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'herald_', eventLoopMonitoringPrecision: 100 });
  return registry;
}

/**
 * Whether the program has read its configuration, and whether what runs is what was applied,
 * as MetalLB's `k8s_client_config_loaded_bool` / `config_stale_bool`: loaded turns 1 at the
 * first configuration pass after the caches synced (0 means the program never got to read
 * its configuration: missing CRDs or RBAC keep informers from syncing); stale is 1 while the
 * latest pass found configuration errors, so the objects they name are left out of what runs
 * (Herald keeps the valid objects working; the errors are listed in ConfigurationState).
 */
export interface ConfigMetrics {
  /** A configuration pass ended with this many errors. */
  observe(errors: number): void;
}

export function registerConfigMetrics(registry: Registry): ConfigMetrics {
  const loaded = new Gauge({
    name: 'herald_config_loaded_bool',
    help: '1 once the configuration has been read (caches synced and a first pass done)',
    registers: [registry],
  });
  const stale = new Gauge({
    name: 'herald_config_stale_bool',
    help: '1 while the latest configuration has errors: the objects named in ConfigurationState are left out of what runs',
    registers: [registry],
  });
  loaded.set(0);
  stale.set(0);
  return {
    observe(errors: number): void {
      loaded.set(1);
      stale.set(errors > 0 ? 1 : 0);
    },
  };
}

export interface OpsServerOptions {
  readonly registry: Registry;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  /**
   * Also serve /healthz and /readyz (never /metrics) over plain HTTP on this port (0: a free
   * one), for kubelet probes whatever the metrics port's scheme.
   */
  readonly healthPort?: number;
  /** Why the program is not ready, or undefined when it is. */
  readonly notReadyReason: () => string | undefined;
  readonly logger: Logger;
  /** HTTPS with this certificate, and /metrics behind this authorizer; plain HTTP, open, without. */
  readonly secure?: {
    readonly certificate: ServingCertificate;
    readonly authorizer: RequestAuthorizer;
    /**
     * Where the certificate came from: served anew when the files change (cert-manager or a
     * mounted Secret renewing it), checked every `pollMs` (default 60 s).
     */
    readonly files?: { readonly certFile: string; readonly keyFile: string; readonly pollMs?: number };
  };
}

export interface OpsServer {
  readonly port: number;
  readonly healthPort?: number;
  readonly scheme: 'http' | 'https';
  close(): Promise<void>;
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const serveMetrics = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    const secure = opts.secure;
    if (!secure) return writeMetrics(res);
    secure.authorizer.check(req.headers['authorization'], '/metrics', 'get').then(
      (d) => {
        if (d.allowed) return writeMetrics(res);
        const headers: Record<string, string> = { 'content-type': 'text/plain' };
        if (d.status === 401) headers['www-authenticate'] = 'Bearer realm="herald"';
        res.writeHead(d.status, headers).end(`${d.message}\n`);
      },
      (err: unknown) => {
        opts.logger.error('authorization failed', { event: 'authorizationFailed', error: String(err) });
        res.writeHead(500).end();
      },
    );
  };
  const writeMetrics = (res: ServerResponse): void => {
    opts.registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': opts.registry.contentType });
        res.end(body);
      },
      (err: unknown) => {
        opts.logger.error('metrics collection failed', { event: 'collectFailed', error: String(err) });
        res.writeHead(500).end();
      },
    );
  };
  const health = (path: string | undefined, res: ServerResponse): boolean => {
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return true;
    }
    if (path === '/readyz') {
      const why = opts.notReadyReason();
      res.writeHead(why ? 503 : 200, { 'content-type': 'text/plain' }).end(why ? `not ready: ${why}\n` : 'ok\n');
      return true;
    }
    return false;
  };
  const notFound = (res: ServerResponse): void => {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  };
  const listener: RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') serveMetrics(req, res);
    else if (!health(path, res)) notFound(res);
  };
  const server: Server = opts.secure
    ? createHttpsServer({ cert: opts.secure.certificate.cert, key: opts.secure.certificate.key }, listener)
    : createServer(listener);
  const stopWatching = opts.secure?.files
    ? watchCertificate(server as HttpsServer, opts.secure.files, opts.logger)
    : undefined;
  const servers = [server];
  if (opts.healthPort !== undefined) {
    servers.push(
      createServer((req, res) => {
        if (!health((req.url ?? '/').split('?')[0], res)) notFound(res);
      }),
    );
  }
  const ports: number[] = [];
  try {
    for (const [i, s] of servers.entries()) {
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(i === 0 ? opts.port : opts.healthPort, opts.host ?? '0.0.0.0', () => resolve());
      });
      ports.push((s.address() as AddressInfo).port);
    }
  } catch (err) {
    for (const s of servers) if (s.listening) s.close();
    throw err;
  }
  return {
    port: ports[0]!,
    ...(ports[1] !== undefined ? { healthPort: ports[1] } : {}),
    scheme: opts.secure ? 'https' : 'http',
    close: () => {
      stopWatching?.();
      return Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      ).then(() => undefined);
    },
  };
}

/**
 * Serves the certificate files anew whenever they change (compared with the files as they
 * were when last loaded); a pair that does not load (a half-written renewal) keeps the old
 * one until the files change again.
 */
function watchCertificate(
  server: HttpsServer,
  files: { certFile: string; keyFile: string; pollMs?: number },
  log: Logger,
): () => void {
  const signature = (): string =>
    [files.certFile, files.keyFile]
      .map((f) => {
        try {
          const st = statSync(f);
          return `${st.ino}:${st.size}:${st.mtimeMs}`;
        } catch {
          return 'missing';
        }
      })
      .join('|');
  let seen = signature();
  const timer = setInterval(() => {
    const now = signature();
    if (now === seen) return;
    seen = now;
    try {
      const c = loadCertificateFiles(files.certFile, files.keyFile);
      server.setSecureContext({ cert: c.cert, key: c.key });
      log.info('serving the renewed certificate', { event: 'certificateReloaded', certFile: files.certFile });
    } catch (err) {
      log.warn('the changed certificate files do not load; still serving the previous certificate', {
        event: 'certificateReloadFailed',
        error: errorMessage(err),
      });
    }
  }, files.pollMs ?? 60_000);
  timer.unref();
  return () => clearInterval(timer);
}
