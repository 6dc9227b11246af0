/**
 * The HTTP front of the embedded API server: routing of Kubernetes REST paths, bearer-token
 * authentication, optional RBAC, discovery, tables, watch streaming and fault injection.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { generate as generateCertificate } from 'selfsigned';
import type { AddressInfo, Socket } from 'node:net';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { ApiCore, type CoreOptions, type PatchType } from './core.js';
import { authorize, forbiddenMessage, serviceAccountUser, type Attributes, type RbacSource, type UserInfo } from './rbac.js';
import { ALL_VERBS, groupVersion, resourceKey, type ResourceInfo } from './registry.js';
import { ApiError, badRequest } from './status.js';
import type { Obj } from './store.js';
import { toTable, wantsTable } from './table.js';
import { openApiGroupVersion, openApiRoot } from './openapi.js';

export const KUBERNETES_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-herald', platform: `${process.platform}/${process.arch}` };

export interface FailRule {
  /** `services`, `ipaddresspools.herald.dev`, or `*`. */
  readonly resource: string;
  /** get, list, watch, create, update, patch, delete; any when absent. */
  readonly verb?: string;
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
  stop(): Promise<void>;
}

interface Route {
  readonly info: ResourceInfo;
  readonly namespace?: string;
  readonly name?: string;
  readonly sub?: 'status';
  /** The deprecated `/watch/` path prefix. */
  readonly legacyWatch: boolean;
}

function send(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? String(err)}`);
  if (e.code === 429 && !res.headersSent) res.setHeader('Retry-After', '1');
  send(res, e.code, e.toStatus());
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string, contentType: string): unknown {
  if (contentType.includes('protobuf')) {
    // Like a server without protobuf support: clients (client-go) fall back to JSON on 415.
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
  }
  if (text.trim() === '') return undefined;
  try {
    return contentType.includes('yaml') ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw badRequest(`the body of the request could not be decoded: ${(err as Error).message}`);
  }
}

function patchTypeOf(contentType: string): PatchType {
  if (contentType.startsWith('application/merge-patch+json')) return 'merge';
  if (contentType.startsWith('application/json-patch+json')) return 'json';
  if (contentType.startsWith('application/strategic-merge-patch+json')) return 'strategic';
  if (contentType.startsWith('application/apply-patch+yaml') || contentType.startsWith('application/apply-patch+json')) return 'apply';
  throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
}

export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const core = new ApiCore(opts);
  const adminToken = opts.adminToken ?? randomBytes(16).toString('hex');
  const tokens = new Map<string, UserInfo>([[adminToken, { name: 'herald-admin', groups: ['system:masters', 'system:authenticated'] }]]);
  const enforceRbac = opts.enforceRbac ?? false;
  const bookmarkMs = opts.bookmarkIntervalMs ?? 10_000;
  let latencyMs = 0;
  let failRules: { rule: FailRule; left: number }[] = [];
  const hung = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const requestCounts = new Map<string, number>();

  const rbacSource: RbacSource = {
    clusterRoles: () => core.store.list('clusterroles.rbac.authorization.k8s.io'),
    clusterRoleBindings: () => core.store.list('clusterrolebindings.rbac.authorization.k8s.io'),
    roles: (ns) => core.store.list('roles.rbac.authorization.k8s.io', ns),
    roleBindings: (ns) => core.store.list('rolebindings.rbac.authorization.k8s.io', ns),
  };

  function route(path: string): Route | 'discovery' | undefined {
    const segs = path.split('/').filter((s) => s !== '');
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api') {
      if (segs.length <= 2) return 'discovery';
      group = '';
      version = segs[1]!;
      rest = segs.slice(2);
    } else if (segs[0] === 'apis') {
      if (segs.length <= 3) return 'discovery';
      group = segs[1]!;
      version = segs[2]!;
      rest = segs.slice(3);
    } else return undefined;
    const legacyWatch = rest[0] === 'watch';
    if (legacyWatch) rest = rest.slice(1);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const info = core.registry.lookup(group, version, rest[0] ?? '');
    if (!info) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (namespace !== undefined && !info.namespaced) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const name = rest[1];
    const subText = rest[2];
    if (rest.length > 3 || (subText !== undefined && (subText !== 'status' || !info.hasStatus) && subText !== 'finalize')) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    return {
      info,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(subText === 'status' ? { sub: 'status' as const } : {}),
      legacyWatch,
    };
  }

  function discovery(path: string): unknown {
    const segs = path.split('/').filter((s) => s !== '');
    const resourceList = (group: string, version: string): unknown => {
      const infos = core.registry.all().filter((r) => r.group === group && r.version === version);
      if (infos.length === 0) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      return {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: group === '' ? version : `${group}/${version}`,
        resources: infos.flatMap((r) => [
          {
            name: r.resource,
            singularName: r.singular,
            namespaced: r.namespaced,
            kind: r.kind,
            verbs: [...ALL_VERBS],
            ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
            ...(r.categories.length > 0 ? { categories: r.categories } : {}),
          },
          ...(r.hasStatus ? [{ name: `${r.resource}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] }] : []),
        ]),
      };
    };
    if (segs[0] === 'api') {
      if (segs.length === 1) return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: 'localhost' }] };
      return resourceList('', segs[1]!);
    }
    const groupDoc = (name: string, versions: string[]): unknown => ({
      name,
      versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${versions[0]!}`, version: versions[0]! },
    });
    const groups = [...core.registry.groups().entries()].filter(([g]) => g !== '').sort(([a], [b]) => a.localeCompare(b));
    if (segs.length === 1) return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(([g, v]) => groupDoc(g, v)) };
    const found = groups.find(([g]) => g === segs[1]);
    if (!found) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (segs.length === 2) return { kind: 'APIGroup', apiVersion: 'v1', ...(groupDoc(found[0], found[1]) as object) };
    return resourceList(segs[1]!, segs[2]!);
  }

  function authenticate(req: IncomingMessage): UserInfo {
    const h = req.headers['authorization'] ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(h);
    const user = m ? tokens.get(m[1]!) : undefined;
    if (!user) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    return user;
  }

  function verbOf(method: string, r: Route, watch: boolean): string {
    switch (method) {
      case 'GET':
        return watch ? 'watch' : r.name !== undefined ? 'get' : 'list';
      case 'POST':
        return 'create';
      case 'PUT':
        return 'update';
      case 'PATCH':
        return 'patch';
      case 'DELETE':
        return r.name !== undefined ? 'delete' : 'deletecollection';
      default:
        throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
  }

  function injectedFailure(r: Route, verb: string): FailRule | undefined {
    const key = resourceKey(r.info);
    const hit = failRules.find((f) => f.left > 0 && (f.rule.resource === '*' || f.rule.resource === key || f.rule.resource === r.info.resource) && (f.rule.verb === undefined || f.rule.verb === verb));
    if (!hit) return undefined;
    hit.left--;
    failRules = failRules.filter((f) => f.left > 0);
    return hit.rule;
  }

  function serveWatch(req: IncomingMessage, res: ServerResponse, r: Route, q: URLSearchParams, table: boolean): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    const write = (e: { type: string; object: Record<string, unknown> }): void => {
      if (res.destroyed || res.writableEnded) return;
      const object = table && e.type !== 'BOOKMARK' && e.type !== 'ERROR' ? toTable(r.info, [e.object as Obj], Date.now()) : e.object;
      res.write(`${JSON.stringify({ type: e.type, object })}\n`);
    };
    const timers: { bookmark?: NodeJS.Timeout; timeout?: NodeJS.Timeout } = {};
    const finish = (): void => {
      if (timers.bookmark) clearInterval(timers.bookmark);
      if (timers.timeout) clearTimeout(timers.timeout);
      if (!res.writableEnded) res.end();
    };
    let handle: ReturnType<ApiCore['watch']>;
    try {
      handle = core.watch(
        r.info,
        r.namespace,
        {
          ...(q.get('labelSelector') !== null ? { labelSelector: q.get('labelSelector')! } : {}),
          ...(q.get('fieldSelector') !== null ? { fieldSelector: q.get('fieldSelector')! } : {}),
          ...(q.get('resourceVersion') !== null ? { resourceVersion: q.get('resourceVersion')! } : {}),
          allowWatchBookmarks: q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1',
        },
        write,
        finish,
      );
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', String(err));
      write({ type: 'ERROR', object: e.toStatus() });
      finish();
      return;
    }
    timers.bookmark = setInterval(() => handle.bookmark(), bookmarkMs);
    timers.bookmark.unref();
    const seconds = Number(q.get('timeoutSeconds') ?? '0');
    if (seconds > 0) {
      timers.timeout = setTimeout(() => {
        handle.stop();
        finish();
      }, seconds * 1000);
      timers.timeout.unref();
    }
    const cleanup = (): void => {
      handle.stop();
      finish();
    };
    req.on('close', cleanup);
    res.on('close', cleanup);
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
    if (path === '/version' || path === '/version/') return send(res, 200, { ...KUBERNETES_VERSION, goVersion: 'n/a', compiler: 'n/a', buildDate: '2026-01-01T00:00:00Z', gitCommit: 'herald', gitTreeState: 'clean' });
    if (path === '/openapi/v3' || path === '/openapi/v3/') return send(res, 200, openApiRoot(core.registry));
    if (path.startsWith('/openapi/v3/')) {
      const segs = path.slice('/openapi/v3/'.length).split('/').filter((x) => x !== '');
      const doc = segs[0] === 'api' ? openApiGroupVersion(core.registry, '', segs[1] ?? '') : openApiGroupVersion(core.registry, segs[1] ?? '', segs[2] ?? '');
      if (doc) return send(res, 200, doc);
    }
    if (path.startsWith('/openapi/')) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const r = route(path);
    if (r === undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (r === 'discovery') {
      if (method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      if (enforceRbac) {
        const a: Attributes = { user, verb: 'get', path };
        if (!authorize(rbacSource, a).allowed) throw new ApiError(403, 'Forbidden', forbiddenMessage(a));
      }
      return send(res, 200, discovery(path));
    }
    const watch = q.get('watch') === 'true' || q.get('watch') === '1' || r.legacyWatch;
    const verb = verbOf(method, r, watch);
    requestCounts.set(`${verb} ${resourceKey(r.info)}${r.sub ? '/status' : ''}`, (requestCounts.get(`${verb} ${resourceKey(r.info)}${r.sub ? '/status' : ''}`) ?? 0) + 1);
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
        throw new ApiError(403, 'Forbidden', forbiddenMessage(a), { ...(r.name !== undefined ? { name: r.name } : {}), group: r.info.group, kind: r.info.resource });
      }
    }
    const fault = injectedFailure(r, verb);
    if (fault) {
      if (fault.status === 'hang') {
        hung.add(res);
        return;
      }
      const reason = fault.status === 409 ? 'Conflict' : fault.status === 429 ? 'TooManyRequests' : fault.status === 503 ? 'InternalError' : 'InternalError';
      throw new ApiError(fault.status, reason, `injected fault: ${fault.status} for ${verb} ${resourceKey(r.info)}`, { ...(r.name !== undefined ? { name: r.name } : {}), group: r.info.group, kind: r.info.resource });
    }
    const table = wantsTable(req.headers['accept']);
    const contentType = String(req.headers['content-type'] ?? 'application/json');
    const listOpts = {
      ...(q.get('labelSelector') !== null ? { labelSelector: q.get('labelSelector')! } : {}),
      ...(q.get('fieldSelector') !== null ? { fieldSelector: q.get('fieldSelector')! } : {}),
      ...(q.get('limit') !== null ? { limit: Number(q.get('limit')) } : {}),
      ...(q.get('continue') !== null ? { continue: q.get('continue')! } : {}),
      ...(q.get('resourceVersion') !== null ? { resourceVersion: q.get('resourceVersion')! } : {}),
    };
    switch (verb) {
      case 'watch':
        return serveWatch(req, res, r, q, table);
      case 'list': {
        const list = core.list(r.info, r.namespace, listOpts);
        if (table) return send(res, 200, toTable(r.info, list['items'] as Obj[], Date.now(), list['metadata'] as Record<string, unknown>));
        return send(res, 200, list);
      }
      case 'get': {
        const o = core.get(r.info, r.namespace, r.name!);
        return send(res, 200, table ? toTable(r.info, [o], Date.now()) : o);
      }
      case 'create': {
        if (r.name !== undefined) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        const body = parseBody(await readBody(req), contentType);
        return send(res, 201, core.create(r.info, r.namespace, body));
      }
      case 'update': {
        const body = parseBody(await readBody(req), contentType);
        return send(res, 200, core.update(r.info, r.namespace, r.name!, body, r.sub));
      }
      case 'patch': {
        const type = patchTypeOf(contentType);
        const body = parseBody(await readBody(req), contentType);
        const existed = core.store.get(resourceKey(r.info), r.info.namespaced ? r.namespace : undefined, r.name!) !== undefined;
        const out = core.patch(r.info, r.namespace, r.name!, type, body, r.sub);
        return send(res, existed ? 200 : 201, out);
      }
      case 'delete': {
        const text = await readBody(req);
        const out = core.delete(r.info, r.namespace, r.name!, parseBody(text, 'application/json') ?? {});
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
  let cert: { cert: string; key: string } | undefined;
  if (useTls) {
    const pems = await generateCertificate([{ name: 'commonName', value: 'herald-apiserver' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      days: 365,
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
            { type: 7, ip: '::1' },
            ...(hostName !== '127.0.0.1' && hostName !== '::1' && hostName !== '0.0.0.0' && hostName !== '::' ? [{ type: 7, ip: hostName }] : []),
          ],
        },
      ],
    } as never);
    cert = { cert: pems.cert, key: pems.private };
  }
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
      clusters: [{ name: 'herald-lab', cluster: { server: url, ...(cert ? { 'certificate-authority-data': Buffer.from(cert.cert).toString('base64') } : {}) } }],
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

export { groupVersion };
