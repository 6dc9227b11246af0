import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { expect } from 'chai';
import { Counter } from 'prom-client';
import { nullLogger, RecordingLogger } from '../../src/core/logger.js';
import { eventually } from '../support/apiserver.js';
import { createMetricsRegistry, startOpsServer } from '../../src/metrics.js';
import type { AuthDecision, RequestAuthorizer } from '../../src/metrics-auth.js';
import { selfSignedCertificate } from '../../src/tls.js';

/** GET over HTTPS, verifying the server with `ca`. */
function httpsGet(
  port: number,
  path: string,
  ca: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, ca, servername: 'localhost', headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A recording authorizer answering from a table of Authorization headers. */
class TableAuthorizer implements RequestAuthorizer {
  readonly asked: { header: string | undefined; path: string; verb: string }[] = [];
  constructor(private readonly answers: Record<string, AuthDecision>) {}
  check(header: string | undefined, path: string, verb: string): Promise<AuthDecision> {
    this.asked.push({ header, path, verb });
    return Promise.resolve(
      this.answers[header ?? ''] ?? { allowed: false, status: 401, reason: 'noToken', message: 'Unauthorized' },
    );
  }
}

describe('metrics and ops server', () => {
  it('serves /metrics, /healthz and /readyz from the given registry', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const c = new Counter({ name: 'herald_test_total', help: 'test', registers: [registry] });
    c.inc(3);
    let why: string | undefined = 'caches not synced';
    const ops = await startOpsServer({
      registry,
      port: 0,
      host: '127.0.0.1',
      notReadyReason: () => why,
      logger: nullLogger,
    });
    try {
      const base = `http://127.0.0.1:${ops.port}`;
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).to.match(/^herald_test_total 3$/m);
      expect((await fetch(`${base}/healthz`)).status).to.equal(200);
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).to.equal(503);
      expect(await notReady.text()).to.contain('caches not synced');
      why = undefined;
      expect((await fetch(`${base}/readyz`)).status).to.equal(200);
      expect((await fetch(`${base}/other`)).status).to.equal(404);
    } finally {
      await ops.close();
    }
  });

  it('secured: HTTPS, /metrics only when the authorizer allows, health paths open', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    new Counter({ name: 'herald_secret_total', help: 'test', registers: [registry] }).inc();
    const certificate = await selfSignedCertificate({
      commonName: 'test',
      dnsNames: ['localhost'],
      ips: ['127.0.0.1'],
    });
    const authorizer = new TableAuthorizer({
      'Bearer ok': { allowed: true, user: 'scraper' },
      'Bearer nosy': {
        allowed: false,
        status: 403,
        reason: 'forbidden',
        message: 'Forbidden (user=nosy, verb=get, path=/metrics)',
      },
      'Bearer down': { allowed: false, status: 503, reason: 'reviewFailed', message: 'authentication is unavailable' },
    });
    const ops = await startOpsServer({
      registry,
      port: 0,
      host: '127.0.0.1',
      healthPort: 0,
      notReadyReason: () => undefined,
      logger: nullLogger,
      secure: { certificate, authorizer },
    });
    try {
      expect(ops.scheme).to.equal('https');
      const ok = await httpsGet(ops.port, '/metrics', certificate.cert, { authorization: 'Bearer ok' });
      expect([ok.status, ok.body]).to.satisfy(
        ([st, b]: [number, string]) => st === 200 && /^herald_secret_total 1$/m.test(b),
      );
      const none = await httpsGet(ops.port, '/metrics', certificate.cert);
      expect([none.status, none.headers['www-authenticate']]).to.deep.equal([401, 'Bearer realm="herald"']);
      expect(none.body).to.not.include('herald_secret_total');
      const nosy = await httpsGet(ops.port, '/metrics', certificate.cert, { authorization: 'Bearer nosy' });
      expect([nosy.status, nosy.body]).to.deep.equal([403, 'Forbidden (user=nosy, verb=get, path=/metrics)\n']);
      expect(
        (await httpsGet(ops.port, '/metrics', certificate.cert, { authorization: 'Bearer down' })).status,
      ).to.equal(503);
      expect(authorizer.asked.map((a) => [a.path, a.verb])).to.deep.equal(Array(4).fill(['/metrics', 'get']));
      expect((await httpsGet(ops.port, '/healthz', certificate.cert)).status).to.equal(200);
      expect((await httpsGet(ops.port, '/readyz', certificate.cert)).status).to.equal(200);
      expect(authorizer.asked).to.have.length(4);
      // Plain HTTP is refused on the HTTPS port.
      expect(
        await fetch(`http://127.0.0.1:${ops.port}/healthz`).then(
          () => 'answered',
          () => 'refused',
        ),
      ).to.equal('refused');
      // The plain health port: probes only.
      const health = `http://127.0.0.1:${ops.healthPort!}`;
      expect((await fetch(`${health}/healthz`)).status).to.equal(200);
      expect((await fetch(`${health}/readyz`)).status).to.equal(200);
      expect((await fetch(`${health}/metrics`)).status).to.equal(404);
    } finally {
      await ops.close();
    }
  });

  it('serves renewed certificate files without a restart, and keeps the old one when the new pair does not load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-metrics-cert-'));
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    const first = await selfSignedCertificate({ commonName: 'first', dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    const second = await selfSignedCertificate({ commonName: 'second', dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    writeFileSync(certFile, first.cert);
    writeFileSync(keyFile, first.key);
    const logger = new RecordingLogger();
    const authorizer = new TableAuthorizer({});
    const ops = await startOpsServer({
      registry: createMetricsRegistry({ defaultMetrics: false }),
      port: 0,
      host: '127.0.0.1',
      notReadyReason: () => undefined,
      logger,
      secure: { certificate: first, authorizer, files: { certFile, keyFile, pollMs: 20 } },
    });
    const servedCN = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port: ops.port, rejectUnauthorized: false }, () => {
          resolve(String(s.getPeerCertificate().subject?.CN ?? ''));
          s.end();
        });
        s.on('error', reject);
      });
    try {
      expect(await servedCN()).to.equal('first');
      // A half-done renewal (new certificate, old key) is refused and logged.
      writeFileSync(certFile, second.cert);
      await eventually(
        () => logger.records.some((r) => r.fields['event'] === 'certificateReloadFailed'),
        `the failed reload: ${JSON.stringify(logger.records)}`,
      );
      expect(await servedCN()).to.equal('first');
      writeFileSync(keyFile, second.key);
      await eventually(async () => (await servedCN()) === 'second', 'the renewed certificate');
      expect(logger.records.some((r) => r.fields['event'] === 'certificateReloaded')).to.equal(true);
    } finally {
      await ops.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a health port already taken fails the start with EADDRINUSE', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const first = await startOpsServer({
      registry,
      port: 0,
      host: '127.0.0.1',
      notReadyReason: () => undefined,
      logger: nullLogger,
    });
    try {
      const err = await startOpsServer({
        registry,
        port: 0,
        host: '127.0.0.1',
        healthPort: first.port,
        notReadyReason: () => undefined,
        logger: nullLogger,
      }).then(
        () => undefined,
        (e: unknown) => e as NodeJS.ErrnoException,
      );
      expect(err?.code).to.equal('EADDRINUSE');
    } finally {
      await first.close();
    }
  });

  it('a registry carries default labels and process metrics when asked', async () => {
    const registry = createMetricsRegistry({ labels: { node: 'n1' } });
    expect(await registry.metrics()).to.match(/herald_process_cpu_user_seconds_total\{node="n1"\}/);
  });
});
