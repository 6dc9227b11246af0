/**
 * The BGP listener's retry of a failed listen, on a FakeClock: a real socket on loopback
 * holds the port (EADDRINUSE), the retries follow the backoff, the error is on every peer of
 * that port and in the log with their names, and once the port is free the next retry works
 * and the errors clear. No connection is made: sessions use a transport that never answers.
 */
import { createServer, type Server } from 'node:net';
import { expect } from 'chai';
import { BgpListener } from '../../../../speaker/bgp/listener.js';
import { BgpManager } from '../../../../speaker/bgp/manager.js';
import type { Transport } from '../../../../speaker/bgp/transport.js';
import { parseConfig } from '../../../../src/config/parse.js';
import type { Peer } from '../../../../src/config/model.js';
import { FakeClock } from '../../../../src/core/clock.js';
import { RecordingLogger } from '../../../../src/core/logger.js';
import { parseIP } from '../../../../src/net/ip.js';

/** Connects that hang until aborted (a peer that never answers). */
const silent: Transport = {
  connect: (o) =>
    new Promise((_resolve, reject) => o.signal?.addEventListener('abort', () => reject(new Error('aborted')))),
};

function peers(port: number): Peer[] {
  const H = (name: string, spec: Record<string, unknown>): Record<string, unknown> => ({
    apiVersion: 'herald.dev/v1beta1',
    kind: 'BGPPeer',
    metadata: { name, namespace: 'herald-system' },
    spec: { myASN: 65000, peerASN: 65001, peerPort: port, ...spec },
  });
  const parsed = parseConfig([
    H('rtr-passive', { peerAddress: '192.0.2.2', passive: true }),
    H('rtr-active', { peerAddress: '192.0.2.3' }),
  ]);
  expect(parsed.errors).to.deep.equal([]);
  return [...parsed.config.peers.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Waits (real time, bounded) for a condition that depends on socket callbacks. */
async function until<T>(fn: () => T | undefined, what: string, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A free port a BGPPeer may name (peerPort is at most 16384): tries a few at random. */
async function occupyFree(): Promise<Server> {
  for (let i = 0; ; i++) {
    try {
      return await occupy(10_000 + Math.floor(Math.random() * 6000));
    } catch (err) {
      if (i >= 20) throw err;
    }
  }
}

async function occupy(port: number): Promise<Server> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen({ port, host: '127.0.0.1', exclusive: true }, resolve);
  });
  return s;
}

const portOf = (s: Server): number => (s.address() as { port: number }).port;
const close = (s: Server): Promise<void> => new Promise((r) => s.close(() => r()));

describe('bgp listener: a failed listen is retried with backoff (fake clock)', () => {
  it('reports EADDRINUSE on every peer of the port and in the log naming them, retries at 1 s, 2 s, … and clears once the port is free', async () => {
    const blocker = await occupyFree();
    const port = portOf(blocker);
    const clock = new FakeClock();
    const logger = new RecordingLogger();
    let changes = 0;
    const m = new BgpManager({
      clock,
      logger,
      transport: silent,
      random: () => 0,
      listen: { host: '127.0.0.1' },
      nodeAddresses: () => ({ v4: parseIP('192.0.2.1') }),
      onChange: () => changes++,
    });
    m.apply(peers(port), new Map());
    const first = await until(
      () => logger.records.find((r) => r.fields['event'] === 'listenerFailed' && r.level === 'error'),
      'the first failure',
    );
    expect(first.level).to.equal('error');
    expect(first.fields).to.deep.include({ port, peers: ['rtr-active', 'rtr-passive'], retryInMs: 1000, attempt: 1 });
    expect(String(first.fields['error'])).to.include('EADDRINUSE');
    expect(changes).to.equal(1);
    const errors = m.lastErrors();
    expect(errors.get('rtr-passive')).to.match(new RegExp(`^cannot listen on BGP port ${port}: .*EADDRINUSE`));
    expect(errors.get('rtr-active')).to.include('EADDRINUSE').and.include("the peer's connections to this node fail");
    // Only the passive peer cannot announce at all.
    expect([...m.failures().keys()]).to.deep.equal(['rtr-passive']);

    const attempts = (): number => logger.records.filter((r) => r.fields['event'] === 'listenerFailed').length;
    clock.advance(999);
    await new Promise((r) => setImmediate(r));
    expect(attempts()).to.equal(1);
    clock.advance(1);
    const second = await until(
      () => logger.records.find((r) => r.fields['event'] === 'listenerFailed' && r.level === 'warn'),
      'the first retry',
    );
    expect(second.fields).to.deep.include({ retryInMs: 2000, attempt: 2 });
    expect(changes).to.equal(1);

    await close(blocker);
    clock.advance(1999);
    await new Promise((r) => setImmediate(r));
    expect(attempts()).to.equal(2);
    clock.advance(1);
    const ok = await until(() => logger.records.find((r) => r.fields['event'] === 'listening'), 'the listen to work');
    expect(ok.fields).to.deep.include({ port, peers: ['rtr-active', 'rtr-passive'] });
    expect(changes).to.equal(2);
    expect(m.lastErrors().get('rtr-passive')).to.equal(undefined);
    expect(m.lastErrors().get('rtr-active') ?? '').to.not.include('cannot listen');
    expect(m.failures().size).to.equal(0);
    // The port is really ours now.
    await occupy(port).then(
      () => expect.fail('the port should be held by the listener'),
      (err: NodeJS.ErrnoException) => expect(err.code).to.equal('EADDRINUSE'),
    );
    m.stopAll();
  });

  it('close() during the wait cancels the retry: nothing listens afterwards', async () => {
    const blocker = await occupyFree();
    const port = portOf(blocker);
    const clock = new FakeClock();
    const logger = new RecordingLogger();
    const l = new BgpListener({ port, host: '127.0.0.1', clock, logger, random: () => 0, onConnection: () => false });
    await l.start();
    expect(l.failure()).to.include('EADDRINUSE');
    expect(clock.pending()).to.equal(1);
    l.close();
    expect(clock.pending()).to.equal(0);
    await close(blocker);
    clock.advance(60_000);
    const again = await occupy(port);
    await close(again);
  });
});
