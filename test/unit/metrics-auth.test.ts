/**
 * Delegated auth for /metrics with a recording reviewer and a fake clock: the status and
 * reason of each answer, what is cached and for how long, and that one review serves
 * concurrent scrapes.
 */
import { expect } from 'chai';
import { FakeClock } from '../../src/core/clock.js';
import { RecordingLogger } from '../../src/core/logger.js';
import type {
  AccessReviewResult,
  NonResourceRequest,
  Reviewer,
  ReviewedUser,
  TokenReviewResult,
} from '../../src/k8s/reviews.js';
import { DEFAULT_AUTH_CACHE_TTL_MS, DelegatedAuth } from '../../src/metrics-auth.js';
import { metricsSecurityFrom } from '../../src/cli/metrics-flags.js';

const SCRAPER: ReviewedUser = {
  username: 'system:serviceaccount:monitoring:prometheus',
  groups: ['system:serviceaccounts', 'system:authenticated'],
};

/** Answers from tables; records every review; `fail` makes the API server unreachable. */
class RecordingReviewer implements Reviewer {
  readonly tokenReviews: string[] = [];
  readonly accessReviews: { user: string; request: NonResourceRequest }[] = [];
  fail = false;
  /** Held answers: resolve them to finish a review (concurrency tests). */
  hold: (() => void)[] | undefined;
  constructor(
    private readonly users: Record<string, ReviewedUser>,
    private readonly allowed: Set<string>,
  ) {}
  private async wait(): Promise<void> {
    if (this.hold) await new Promise<void>((r) => this.hold!.push(r));
    if (this.fail) throw new Error('connect ECONNREFUSED');
  }
  async tokenReview(token: string): Promise<TokenReviewResult> {
    this.tokenReviews.push(token);
    await this.wait();
    const user = this.users[token];
    return user ? { authenticated: true, user } : { authenticated: false, error: 'invalid bearer token' };
  }
  async subjectAccessReview(user: ReviewedUser, request: NonResourceRequest): Promise<AccessReviewResult> {
    this.accessReviews.push({ user: user.username, request });
    await this.wait();
    return this.allowed.has(user.username)
      ? { allowed: true, reason: 'RBAC: allowed' }
      : { allowed: false, reason: '' };
  }
}

describe('metrics: delegated authentication and authorization', () => {
  let clock: FakeClock;
  let reviewer: RecordingReviewer;
  let logger: RecordingLogger;
  let auth: DelegatedAuth;
  beforeEach(() => {
    clock = new FakeClock();
    reviewer = new RecordingReviewer(
      { good: SCRAPER, nosy: { username: 'system:serviceaccount:default:nosy', groups: ['system:authenticated'] } },
      new Set([SCRAPER.username]),
    );
    logger = new RecordingLogger();
    auth = new DelegatedAuth({ reviewer, clock, logger });
  });

  const cases: { name: string; header: string | undefined; want: Record<string, unknown> }[] = [
    {
      name: 'no Authorization header: 401 noToken, no review',
      header: undefined,
      want: { allowed: false, status: 401, reason: 'noToken' },
    },
    {
      name: 'a Basic header: 401 noToken',
      header: 'Basic Zm9vOmJhcg==',
      want: { allowed: false, status: 401, reason: 'noToken' },
    },
    {
      name: 'an unknown token: 401 badToken',
      header: 'Bearer wrong',
      want: { allowed: false, status: 401, reason: 'badToken' },
    },
    {
      name: 'an authenticated user without the permission: 403 forbidden',
      header: 'Bearer nosy',
      want: { allowed: false, status: 403, reason: 'forbidden' },
    },
    {
      name: 'an authorized token: allowed, with the user',
      header: 'Bearer good',
      want: { allowed: true, user: SCRAPER.username },
    },
    { name: 'the scheme is case-insensitive', header: 'bearer good', want: { allowed: true, user: SCRAPER.username } },
  ];
  for (const tc of cases) {
    it(tc.name, async () => {
      const d = await auth.check(tc.header, '/metrics', 'get');
      expect(d).to.include(tc.want);
    });
  }

  it('asks about the non-resource URL and verb, for the user the TokenReview named', async () => {
    await auth.check('Bearer good', '/metrics', 'get');
    expect(reviewer.tokenReviews).to.deep.equal(['good']);
    expect(reviewer.accessReviews).to.deep.equal([
      { user: SCRAPER.username, request: { path: '/metrics', verb: 'get' } },
    ]);
  });

  it('caches both answers until the TTL passes, then asks again', async () => {
    await auth.check('Bearer good', '/metrics', 'get');
    clock.advance(DEFAULT_AUTH_CACHE_TTL_MS - 1);
    expect(await auth.check('Bearer good', '/metrics', 'get')).to.include({ allowed: true });
    expect([reviewer.tokenReviews.length, reviewer.accessReviews.length]).to.deep.equal([1, 1]);
    clock.advance(1);
    await auth.check('Bearer good', '/metrics', 'get');
    expect([reviewer.tokenReviews.length, reviewer.accessReviews.length]).to.deep.equal([2, 2]);
  });

  it('caches a denial and an unknown token too (for their own TTLs)', async () => {
    auth = new DelegatedAuth({ reviewer, clock, logger, denyTtlMs: 2000, authnTtlMs: 5000 });
    await auth.check('Bearer nosy', '/metrics', 'get');
    await auth.check('Bearer wrong', '/metrics', 'get');
    clock.advance(1999);
    await auth.check('Bearer nosy', '/metrics', 'get');
    await auth.check('Bearer wrong', '/metrics', 'get');
    expect([reviewer.tokenReviews.length, reviewer.accessReviews.length]).to.deep.equal([2, 1]);
    clock.advance(1);
    await auth.check('Bearer nosy', '/metrics', 'get');
    expect([reviewer.tokenReviews.length, reviewer.accessReviews.length]).to.deep.equal([2, 2]);
    // The forbidden scraper is logged once per review, not once per scrape.
    expect(logger.records.filter((r) => r.fields['event'] === 'forbidden')).to.have.length(2);
  });

  it('a failed review answers 503, is logged, and is not cached', async () => {
    reviewer.fail = true;
    expect(await auth.check('Bearer good', '/metrics', 'get')).to.include({
      allowed: false,
      status: 503,
      reason: 'reviewFailed',
    });
    expect(logger.records.some((r) => r.level === 'error' && r.fields['event'] === 'tokenReviewFailed')).to.equal(true);
    reviewer.fail = false;
    expect(await auth.check('Bearer good', '/metrics', 'get')).to.include({ allowed: true });
    expect(reviewer.tokenReviews).to.have.length(2);
  });

  it('concurrent scrapes with one token share one review', async () => {
    const held: (() => void)[] = [];
    reviewer.hold = held;
    /** Lets pending promise callbacks run until `cond` holds (bounded: no wall-clock wait). */
    const settle = async (cond: () => boolean): Promise<void> => {
      for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setImmediate(r));
      expect(cond(), 'condition never held').to.equal(true);
    };
    const all = Promise.all([
      auth.check('Bearer good', '/metrics', 'get'),
      auth.check('Bearer good', '/metrics', 'get'),
      auth.check('Bearer good', '/metrics', 'get'),
    ]);
    await settle(() => held.length === 1);
    held.shift()!();
    await settle(() => held.length === 1 && reviewer.accessReviews.length === 1);
    held.shift()!();
    const out = await all;
    expect(out.every((d) => d.allowed)).to.equal(true);
    expect([reviewer.tokenReviews.length, reviewer.accessReviews.length]).to.deep.equal([1, 1]);
  });

  it('keeps at most maxEntries answers, dropping the oldest', async () => {
    const users: Record<string, ReviewedUser> = {};
    for (let i = 0; i < 5; i++) users[`t${i}`] = { username: `u${i}`, groups: [] };
    reviewer = new RecordingReviewer(users, new Set());
    auth = new DelegatedAuth({ reviewer, clock, logger, maxEntries: 3 });
    for (let i = 0; i < 5; i++) await auth.check(`Bearer t${i}`, '/metrics', 'get');
    await auth.check('Bearer t4', '/metrics', 'get');
    expect(reviewer.tokenReviews).to.have.length(5);
    await auth.check('Bearer t0', '/metrics', 'get');
    expect(reviewer.tokenReviews).to.have.length(6);
  });

  it('never keeps the token itself', async () => {
    await auth.check('Bearer good', '/metrics', 'get');
    expect(JSON.stringify(logger.records)).to.not.include('good"');
    const caches = JSON.stringify([
      ...(auth as unknown as { authn: { entries: Map<string, unknown> } }).authn.entries.keys(),
    ]);
    expect(caches).to.not.include('good');
  });
});

describe('metrics: --metrics-secure and the certificate flags', () => {
  const cases: { name: string; args: Parameters<typeof metricsSecurityFrom>[0]; want: unknown }[] = [
    { name: 'secure by default, self-signed', args: { 'metrics-secure': true }, want: {} },
    {
      name: 'secure with given files',
      args: { 'metrics-secure': true, 'metrics-cert-file': 'c.pem', 'metrics-key-file': 'k.pem' },
      want: { certFile: 'c.pem', keyFile: 'k.pem' },
    },
    { name: '--metrics-secure=false: plain HTTP', args: { 'metrics-secure': false }, want: undefined },
  ];
  for (const tc of cases) it(tc.name, () => expect(metricsSecurityFrom(tc.args)).to.deep.equal(tc.want));
  it('refuses certificate files with plain HTTP', () => {
    expect(() => metricsSecurityFrom({ 'metrics-secure': false, 'metrics-cert-file': 'c.pem' })).to.throw(
      /need --metrics-secure/,
    );
  });
});
