/**
 * Who may read /metrics: the bearer token is authenticated with a TokenReview and the user
 * authorized with a SubjectAccessReview (`get` on the non-resource URL), as kube-rbac-proxy
 * does in front of MetalLB. Answers are cached briefly (kube's delegated-auth defaults: ten
 * seconds each), keyed by a hash of the token, never the token; concurrent scrapes with the
 * same token share one review. A failed review (the API server unreachable) is not cached
 * and answers 503, so a scraper retries instead of being told it is unauthorized.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from './core/clock.js';
import { HeraldError, errorMessage } from './core/errors.js';
import type { Logger } from './core/logger.js';
import type { KubeClient } from './k8s/client.js';
import { apiServerReviewer, type Reviewer, type ReviewedUser } from './k8s/reviews.js';
import { loadCertificateFiles, selfSignedCertificate, type ServingCertificate } from './tls.js';

export type AuthDecision =
  | { readonly allowed: true; readonly user: string }
  | {
      readonly allowed: false;
      readonly status: 401 | 403 | 503;
      readonly reason: 'noToken' | 'badToken' | 'forbidden' | 'reviewFailed';
      readonly message: string;
    };

/** What the metrics server asks before serving a request. */
export interface RequestAuthorizer {
  check(authorization: string | undefined, path: string, verb: string): Promise<AuthDecision>;
}

export interface DelegatedAuthOptions {
  readonly reviewer: Reviewer;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Audiences the token must be good for (none: the API server's own). */
  readonly audiences?: readonly string[];
  readonly authnTtlMs?: number;
  readonly allowTtlMs?: number;
  readonly denyTtlMs?: number;
  /** Most cached answers of each kind (oldest dropped first). */
  readonly maxEntries?: number;
}

export const DEFAULT_AUTH_CACHE_TTL_MS = 10_000;
const DEFAULT_MAX_ENTRIES = 1024;

type Authn = { readonly user: ReviewedUser } | { readonly error: string };

/** A small TTL cache with shared in-flight lookups; entries expire by the injected clock. */
class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  private readonly inflight = new Map<string, Promise<V>>();

  constructor(
    private readonly clock: Clock,
    private readonly max: number,
  ) {}

  async get(key: string, ttlOf: (v: V) => number, load: () => Promise<V>): Promise<V> {
    const now = this.clock.monotonic();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    if (hit) this.entries.delete(key);
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const p = load().then(
      (value) => {
        this.inflight.delete(key);
        this.put(key, value, ttlOf(value));
        return value;
      },
      (err: unknown) => {
        this.inflight.delete(key);
        throw err;
      },
    );
    this.inflight.set(key, p);
    return p;
  }

  private put(key: string, value: V, ttl: number): void {
    if (ttl <= 0) return;
    const now = this.clock.monotonic();
    if (this.entries.size >= this.max) {
      for (const [k, e] of this.entries) if (e.expires <= now) this.entries.delete(k);
      while (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    }
    this.entries.set(key, { value, expires: now + ttl });
  }

  get size(): number {
    return this.entries.size;
  }
}

export class DelegatedAuth implements RequestAuthorizer {
  private readonly authn: TtlCache<Authn>;
  private readonly authz: TtlCache<{ allowed: boolean; reason: string }>;
  /** Reviews sent to the API server so far (tests and debugging). */
  readonly reviews = { tokenReviews: 0, accessReviews: 0 };

  constructor(private readonly opts: DelegatedAuthOptions) {
    const max = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.authn = new TtlCache(opts.clock, max);
    this.authz = new TtlCache(opts.clock, max);
  }

  async check(authorization: string | undefined, path: string, verb: string): Promise<AuthDecision> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m)
      return { allowed: false, status: 401, reason: 'noToken', message: 'Unauthorized: a bearer token is needed' };
    const token = m[1]!;
    let authn: Authn;
    try {
      authn = await this.authn.get(
        createHash('sha256').update(token).digest('hex'),
        () => this.opts.authnTtlMs ?? DEFAULT_AUTH_CACHE_TTL_MS,
        async () => {
          this.reviews.tokenReviews++;
          const r = await this.opts.reviewer.tokenReview(token, this.opts.audiences ?? []);
          return r.authenticated ? { user: r.user } : { error: r.error };
        },
      );
    } catch (err) {
      this.opts.logger.error('TokenReview failed; answering 503', {
        event: 'tokenReviewFailed',
        path,
        error: errorMessage(err),
      });
      return {
        allowed: false,
        status: 503,
        reason: 'reviewFailed',
        message: 'authentication is unavailable: the TokenReview failed',
      };
    }
    if ('error' in authn) {
      this.opts.logger.debug('token not authenticated', { event: 'unauthenticated', path, error: authn.error });
      return { allowed: false, status: 401, reason: 'badToken', message: 'Unauthorized' };
    }
    const user = authn.user;
    const key = JSON.stringify([user.username, [...user.groups].sort(), user.uid ?? '', user.extra ?? {}, path, verb]);
    let authz: { allowed: boolean; reason: string };
    try {
      authz = await this.authz.get(
        key,
        (v) =>
          v.allowed
            ? (this.opts.allowTtlMs ?? DEFAULT_AUTH_CACHE_TTL_MS)
            : (this.opts.denyTtlMs ?? DEFAULT_AUTH_CACHE_TTL_MS),
        async () => {
          this.reviews.accessReviews++;
          const r = await this.opts.reviewer.subjectAccessReview(user, { path, verb });
          // Logged once per review, not per cached answer: a misconfigured scraper is named without flooding the log.
          if (!r.allowed)
            this.opts.logger.info('request forbidden', {
              event: 'forbidden',
              user: user.username,
              path,
              verb,
              reason: r.reason,
            });
          return r;
        },
      );
    } catch (err) {
      this.opts.logger.error('SubjectAccessReview failed; answering 503', {
        event: 'accessReviewFailed',
        user: user.username,
        path,
        error: errorMessage(err),
      });
      return {
        allowed: false,
        status: 503,
        reason: 'reviewFailed',
        message: 'authorization is unavailable: the SubjectAccessReview failed',
      };
    }
    if (!authz.allowed) {
      return {
        allowed: false,
        status: 403,
        reason: 'forbidden',
        message: `Forbidden (user=${user.username}, verb=${verb}, path=${path})`,
      };
    }
    return { allowed: true, user: user.username };
  }
}

export interface SecureMetricsOptions {
  /** The program's own client: its ServiceAccount sends the reviews. */
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The certificate's common name when one is generated (`herald-controller`). */
  readonly commonName: string;
  /** Extra names for a generated certificate (the metrics Service's DNS names). */
  readonly dnsNames?: readonly string[];
  /** The listen address, added to a generated certificate when it is a specific one. */
  readonly host?: string;
  /** A PEM certificate and key to serve instead of a generated one (both or neither). */
  readonly certFile?: string;
  readonly keyFile?: string;
}

/** The certificate and authorizer of a secured metrics endpoint. */
export async function secureMetrics(o: SecureMetricsOptions): Promise<{
  certificate: ServingCertificate;
  authorizer: RequestAuthorizer;
  files?: { certFile: string; keyFile: string };
}> {
  if ((o.certFile === undefined) !== (o.keyFile === undefined)) {
    throw new HeraldError(
      'Usage',
      'the metrics certificate needs both --metrics-cert-file and --metrics-key-file (or neither, for a self-signed one)',
    );
  }
  let certificate: ServingCertificate;
  let files: { certFile: string; keyFile: string } | undefined;
  if (o.certFile !== undefined && o.keyFile !== undefined) {
    certificate = loadCertificateFiles(o.certFile, o.keyFile);
    files = { certFile: o.certFile, keyFile: o.keyFile };
    o.logger.info('serving HTTPS with the given certificate', { certFile: o.certFile });
  } else {
    certificate = await selfSignedCertificate({
      commonName: o.commonName,
      dnsNames: ['localhost', hostname(), ...(o.dnsNames ?? [])],
      ips: ['127.0.0.1', '::1', ...(o.host ? [o.host] : [])],
    });
    o.logger.info('serving HTTPS with a self-signed certificate generated at start', { commonName: o.commonName });
  }
  return {
    certificate,
    authorizer: new DelegatedAuth({ reviewer: apiServerReviewer(o.client), clock: o.clock, logger: o.logger }),
    ...(files ? { files } : {}),
  };
}

/** The in-cluster DNS names of a metrics Service (for a generated certificate). */
export function metricsServiceNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}
