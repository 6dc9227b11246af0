/**
 * The HTTP front of the embedded API server: the HTTP(S) listeners, bearer-token
 * authentication, optional RBAC, fault injection, and dispatch of each request to the core.
 * Paths are parsed in routes.ts, discovery documents built in discovery.ts, bodies read and
 * answers written in http-io.ts, and watches streamed by watch-stream.ts.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { stringify as toYaml } from 'yaml';
import { selfSignedCertificate } from './certificate.js';
import { servedInVersion } from './compat.js';
import { ApiCore, type CoreOptions } from './core.js';
import { startControllers } from './controllers/run.js';
import { serveScale } from './scale.js';
import { discoveryDocument } from './discovery.js';
import { parseBody, patchTypeOf, readBody, send, sendError } from './http-io.js';
import {
  authorize,
  forbiddenMessage,
  serviceAccountUser,
  type Attributes,
  type RbacSource,
  type UserInfo,
} from './rbac.js';
import { resourceKey } from './registry.js';
import { parseRoute, verbOf, type Route } from './routes.js';
import { ApiError } from './status.js';
import type { Obj } from './store.js';
import { review, reviewMethodNotAllowed } from './reviews.js';
import { toTable, wantsTable } from './table.js';
import { openApiGroupVersion, openApiRoot } from './openapi.js';
import { serveWatch } from './watch-stream.js';

export const KUBERNETES_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-herald',
  platform: `${process.platform}/${process.arch}`,
};

export interface FailRule {
  /** `services`, `ipaddresspools.herald.dev`, or `*`. */
  readonly resource: string;
  /** get, list, watch, create, update, patch, delete; any when absent. */
  readonly verb?: string;
  /** Only requests to this subresource (`status`); any when absent. */
  readonly subresource?: 'status';
  readonly count: number;
  /** An HTTP status to answer with, or `hang` to never answer. */
  readonly status: 409 | 429 | 500 | 503 | 'hang';
}

export interface Faults {
  /** Closes every open watch stream; returns how many. */
  dropWatches(): number;
  /** Forgets history: watches and continues from older versions get 410 Gone. */
  compact(): void;
  failNext(rule: FailRule): void;
  setLatency(ms: number): void;
  clear(): void;
}

export interface ApiServerOptions extends CoreOptions {
  readonly port?: number;
  readonly host?: string;
  readonly enforceRbac?: boolean;
  /** How often watches that asked for bookmarks get one. */
  readonly bookmarkIntervalMs?: number;
  readonly adminToken?: string;
  /** Serve HTTPS with a fresh self-signed certificate (default). kubectl sends tokens only over TLS. */
  readonly tls?: boolean;
  /**
   * Also accept connections on this Unix socket (the same TLS and API). Network namespaces
   * do not isolate the filesystem, so a forwarder on 127.0.0.1 inside a namespace reaches
   * the server through it without any traffic outside loopback.
   */
  readonly unixSocket?: string;
  /**
   * Run the built-in controllers (scheduler, Deployments, ReplicaSets, EndpointSlices,
   * owner-based garbage collection) in this process. Off by default: most tests want a
   * passive store.
   */
  readonly controllers?: boolean;
}

export interface ApiServer {
  readonly url: string;
  readonly adminToken: string;
  /** PEM of the serving certificate (its own CA), when serving HTTPS. */
  readonly caCertificate?: string;
  readonly core: ApiCore;
  readonly faults: Faults;
  addToken(token: string, user: UserInfo): void;
  /** A token that authenticates as the ServiceAccount (the account need not exist). */
  serviceAccountToken(namespace: string, name: string): string;
  kubeconfig(token?: string, namespace?: string): string;
  writeKubeconfig(path: string, token?: string, namespace?: string): void;
  /** Requests served so far, by `verb resource[/status]`. */
  readonly requestCounts: Map<string, number>;
  /** Writes so far, by `verb resource[/status] ua=<User-Agent> fieldManager=<query>`. */
  readonly writeAgents: Map<string, number>;
  stop(): Promise<void>;
}

export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const core = new ApiCore(opts);
  const controllers = opts.controllers ? startControllers(core) : undefined;
  const adminToken = opts.adminToken ?? randomBytes(16).toString('hex');
  const tokens = new Map<string, UserInfo>([
    [adminToken, { name: 'herald-admin', groups: ['system:masters', 'system:authenticated'] }],
  ]);
  const enforceRbac = opts.enforceRbac ?? false;
  const bookmarkMs = opts.bookmarkIntervalMs ?? 10_000;
  let latencyMs = 0;
  let failRules: { rule: FailRule; left: number }[] = [];
  const hung = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const requestCounts = new Map<string, number>();
  const writeAgents = new Map<string, number>();
  const version =
    opts.kubernetesMinor === undefined
      ? KUBERNETES_VERSION
      : {
          ...KUBERNETES_VERSION,
          minor: String(opts.kubernetesMinor),
          gitVersion: `v1.${opts.kubernetesMinor}.0-herald`,
        };

  const rbacSource: RbacSource = {
    clusterRoles: () => core.store.list('clusterroles.rbac.authorization.k8s.io'),
    clusterRoleBindings: () => core.store.list('clusterrolebindings.rbac.authorization.k8s.io'),
    roles: (ns) => core.store.list('roles.rbac.authorization.k8s.io', ns),
    roleBindings: (ns) => core.store.list('rolebindings.rbac.authorization.k8s.io', ns),
  };

  function authenticate(req: IncomingMessage): UserInfo {
    const h = req.headers['authorization'] ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(h);
    const user = m ? lookupToken(m[1]!) : undefined;
    if (!user) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    return user;
  }

  /** Like kube-apiserver, every authenticated user is in system:authenticated. */
  function lookupToken(token: string): UserInfo | undefined {
    const user = tokens.get(token);
    if (!user || user.groups.includes('system:authenticated')) return user;
    return { ...user, groups: [...user.groups, 'system:authenticated'] };
  }

  function injectedFailure(r: Route, verb: string): FailRule | undefined {
    const key = resourceKey(r.info);
    const hit = failRules.find(
      (f) =>
        f.left > 0 &&
        (f.rule.resource === '*' || f.rule.resource === key || f.rule.resource === r.info.resource) &&
        (f.rule.verb === undefined || f.rule.verb === verb) &&
        (f.rule.subresource === undefined || f.rule.subresource === r.sub),
    );
    if (!hit) return undefined;
    hit.left--;
    failRules = failRules.filter((f) => f.left > 0);
    return hit.rule;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    if (path === '/healthz' || path === '/readyz' || path === '/livez') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    const user = authenticate(req);
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (path === '/version' || path === '/version/')
      return send(res, 200, {
        ...version,
        goVersion: 'n/a',
        compiler: 'n/a',
        buildDate: '2026-01-01T00:00:00Z',
        gitCommit: 'herald',
        gitTreeState: 'clean',
      });
    if (path === '/openapi/v3' || path === '/openapi/v3/') return send(res, 200, openApiRoot(core.registry));
    if (path.startsWith('/openapi/v3/')) {
      const segs = path
        .slice('/openapi/v3/'.length)
        .split('/')
        .filter((x) => x !== '');
      const doc =
        segs[0] === 'api'
          ? openApiGroupVersion(core.registry, '', segs[1] ?? '')
          : openApiGroupVersion(core.registry, segs[1] ?? '', segs[2] ?? '');
      if (doc) return send(res, 200, doc);
    }
    if (path.startsWith('/openapi/'))
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const r = parseRoute(core.registry, path);
    if (
      r === undefined ||
      (r !== 'discovery' &&
        opts.kubernetesMinor !== undefined &&
        !servedInVersion(r.info.group, r.info.version, opts.kubernetesMinor))
    ) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (r === 'discovery') {
      if (method !== 'GET')
        throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      if (enforceRbac) {
        const a: Attributes = { user, verb: 'get', path };
        if (!authorize(rbacSource, a).allowed) throw new ApiError(403, 'Forbidden', forbiddenMessage(a));
      }
      return send(res, 200, discoveryDocument(core.registry, path));
    }
    const watch = q.get('watch') === 'true' || q.get('watch') === '1' || r.legacyWatch;
    const verb = verbOf(method, r, watch);
    const counted = `${verb} ${resourceKey(r.info)}${r.sub ? `/${r.sub}` : ''}`;
    requestCounts.set(counted, (requestCounts.get(counted) ?? 0) + 1);
    if (['create', 'update', 'patch', 'delete', 'deletecollection'].includes(verb)) {
      const agent = `${counted} ua=${String(req.headers['user-agent'] ?? '')} fieldManager=${q.get('fieldManager') ?? ''}`;
      writeAgents.set(agent, (writeAgents.get(agent) ?? 0) + 1);
    }
    if (enforceRbac) {
      const a: Attributes = {
        user,
        verb,
        apiGroup: r.info.group,
        resource: r.info.resource,
        ...(r.sub ? { subresource: r.sub } : {}),
        ...(r.namespace !== undefined ? { namespace: r.namespace } : {}),
        ...(r.name !== undefined ? { name: r.name } : {}),
      };
      if (!authorize(rbacSource, a).allowed) {
        throw new ApiError(403, 'Forbidden', forbiddenMessage(a), {
          ...(r.name !== undefined ? { name: r.name } : {}),
          group: r.info.group,
          kind: r.info.resource,
        });
      }
    }
    if (r.info.review) {
      if (verb !== 'create' || r.name !== undefined) throw reviewMethodNotAllowed();
      const body = parseBody(await readBody(req), contentTypeOf(req));
      return send(
        res,
        201,
        review(r.info, body, {
          rbac: rbacSource,
          lookupToken,
          requester: user,
          enforceRbac,
          ...(r.namespace !== undefined ? { namespace: r.namespace } : {}),
        }),
      );
    }
    const fault = injectedFailure(r, verb);
    if (fault) {
      if (fault.status === 'hang') {
        hung.add(res);
        return;
      }
      const reason =
        fault.status === 409
          ? 'Conflict'
          : fault.status === 429
            ? 'TooManyRequests'
            : fault.status === 503
              ? 'InternalError'
              : 'InternalError';
      throw new ApiError(fault.status, reason, `injected fault: ${fault.status} for ${verb} ${resourceKey(r.info)}`, {
        ...(r.name !== undefined ? { name: r.name } : {}),
        group: r.info.group,
        kind: r.info.resource,
      });
    }
    const table = wantsTable(req.headers['accept']);
    const contentType = contentTypeOf(req);
    const listOpts = {
      ...(q.get('labelSelector') !== null ? { labelSelector: q.get('labelSelector')! } : {}),
      ...(q.get('fieldSelector') !== null ? { fieldSelector: q.get('fieldSelector')! } : {}),
      ...(q.get('limit') !== null ? { limit: Number(q.get('limit')) } : {}),
      ...(q.get('continue') !== null ? { continue: q.get('continue')! } : {}),
      ...(q.get('resourceVersion') !== null ? { resourceVersion: q.get('resourceVersion')! } : {}),
    };
    if (r.sub === 'scale') {
      if (!['get', 'update', 'patch'].includes(verb))
        throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      const body = verb === 'get' ? undefined : parseBody(await readBody(req), contentType);
      return send(
        res,
        200,
        serveScale(
          core,
          r.info,
          r.namespace,
          r.name!,
          verb,
          body,
          verb === 'patch' ? patchTypeOf(contentType) : undefined,
        ),
      );
    }
    const sub = r.sub;
    switch (verb) {
      case 'watch':
        return serveWatch(core, bookmarkMs, req, res, r, q, table);
      case 'list': {
        const list = core.list(r.info, r.namespace, listOpts);
        if (table)
          return send(
            res,
            200,
            toTable(r.info, list['items'] as Obj[], Date.now(), list['metadata'] as Record<string, unknown>),
          );
        return send(res, 200, list);
      }
      case 'get': {
        const o = core.get(r.info, r.namespace, r.name!);
        return send(res, 200, table ? toTable(r.info, [o], Date.now()) : o);
      }
      case 'create': {
        if (r.name !== undefined)
          throw new ApiError(
            405,
            'MethodNotAllowed',
            'the server does not allow this method on the requested resource',
          );
        const body = parseBody(await readBody(req), contentType);
        return send(res, 201, core.create(r.info, r.namespace, body));
      }
      case 'update': {
        const body = parseBody(await readBody(req), contentType);
        return send(res, 200, core.update(r.info, r.namespace, r.name!, body, sub));
      }
      case 'patch': {
        const type = patchTypeOf(contentType);
        const body = parseBody(await readBody(req), contentType);
        const existed =
          core.store.get(resourceKey(r.info), r.info.namespaced ? r.namespace : undefined, r.name!) !== undefined;
        const out = core.patch(r.info, r.namespace, r.name!, type, body, sub);
        return send(res, existed ? 200 : 201, out);
      }
      case 'delete': {
        const out = core.delete(
          r.info,
          r.namespace,
          r.name!,
          parseBody(await readBody(req), contentType.includes('protobuf') ? contentType : 'application/json') ?? {},
        );
        return send(res, 200, out);
      }
      case 'deletecollection':
        return send(res, 200, core.deleteCollection(r.info, r.namespace, listOpts));
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => sendError(res, err));
  };
  const useTls = opts.tls ?? true;
  const hostName = opts.host ?? '127.0.0.1';
  const cert = useTls ? await selfSignedCertificate(hostName) : undefined;
  const server = cert ? createHttpsServer({ cert: cert.cert, key: cert.key }, listener) : createHttpServer(listener);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, hostName, () => resolve());
  });
  let unixServer: ReturnType<typeof createHttpServer> | undefined;
  if (opts.unixSocket) {
    rmSync(opts.unixSocket, { force: true });
    unixServer = cert ? createHttpsServer({ cert: cert.cert, key: cert.key }, listener) : createHttpServer(listener);
    unixServer.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      unixServer!.once('error', reject);
      unixServer!.listen(opts.unixSocket, () => resolve());
    });
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `${cert ? 'https' : 'http'}://${host}:${addr.port}`;

  const kubeconfig = (token = adminToken, namespace = 'default'): string =>
    toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'herald-lab',
          cluster: {
            server: url,
            ...(cert ? { 'certificate-authority-data': Buffer.from(cert.cert).toString('base64') } : {}),
          },
        },
      ],
      users: [{ name: 'herald-lab-user', user: { token } }],
      contexts: [{ name: 'herald-lab', context: { cluster: 'herald-lab', user: 'herald-lab-user', namespace } }],
      'current-context': 'herald-lab',
    });

  return {
    url,
    adminToken,
    ...(cert ? { caCertificate: cert.cert } : {}),
    core,
    requestCounts,
    writeAgents,
    faults: {
      dropWatches: () => core.dropWatches(),
      compact: () => core.compact(),
      failNext: (rule) => {
        failRules.push({ rule, left: rule.count });
      },
      setLatency: (ms) => {
        latencyMs = ms;
      },
      clear: () => {
        failRules = [];
        latencyMs = 0;
        for (const res of hung) res.destroy();
        hung.clear();
      },
    },
    addToken: (token, user) => {
      tokens.set(token, user);
    },
    serviceAccountToken: (namespace, name) => {
      const token = `sa-${namespace}-${name}-${randomBytes(8).toString('hex')}`;
      tokens.set(token, serviceAccountUser(namespace, name));
      return token;
    },
    kubeconfig,
    writeKubeconfig: (path, token, namespace) => writeFileSync(path, kubeconfig(token, namespace), { mode: 0o600 }),
    stop: async () => {
      controllers?.stop();
      core.dropWatches();
      for (const res of hung) res.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      if (unixServer) await new Promise<void>((resolve) => unixServer!.close(() => resolve()));
      if (opts.unixSocket) rmSync(opts.unixSocket, { force: true });
    },
  };
}

function contentTypeOf(req: IncomingMessage): string {
  return String(req.headers['content-type'] ?? 'application/json');
}
