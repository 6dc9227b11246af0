/**
 * Prometheus registry factory and the small HTTP server every Herald program exposes:
 * /metrics, /healthz (the process is alive) and /readyz (caches synced, leader or not).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Logger } from './core/logger.js';

export function createMetricsRegistry(opts: { defaultMetrics?: boolean; labels?: Record<string, string> } = {}): Registry {
  const registry = new Registry();
  if (opts.labels) registry.setDefaultLabels(opts.labels);
  // The event-loop lag histogram samples on a timer: every 100 ms, not prom-client's default
  // 10 ms, which alone woke an idle speaker 100 times a second.
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'herald_', eventLoopMonitoringPrecision: 100 });
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
  const loaded = new Gauge({ name: 'herald_config_loaded_bool', help: '1 once the configuration has been read (caches synced and a first pass done)', registers: [registry] });
  const stale = new Gauge({ name: 'herald_config_stale_bool', help: '1 while the latest configuration has errors: the objects named in ConfigurationState are left out of what runs', registers: [registry] });
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
  /** Why the program is not ready, or undefined when it is. */
  readonly notReadyReason: () => string | undefined;
  readonly logger: Logger;
}

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': opts.registry.contentType });
          res.end(body);
        },
        (err: unknown) => {
          opts.logger.error('metrics collection failed', { error: String(err) });
          res.writeHead(500).end();
        },
      );
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const why = opts.notReadyReason();
      res.writeHead(why ? 503 : 200, { 'content-type': 'text/plain' }).end(why ? `not ready: ${why}\n` : 'ok\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
