/**
 * Decision 015, step 0: the Service status objects are written by a coalescing background
 * worker. Over a recording client that can hold every request (never answer until told):
 * the announcement side (the BGP announcer handing routes to its manager) completes pass
 * after pass while status writes hang; offers made during a pass give one more pass with the
 * newest set; at most STATUS_WRITES_IN_FLIGHT writes are in flight; failures are logged with
 * the object's name and retried after the backoff; stop waits for the pass, then deletes.
 */
import { expect } from 'chai';
import { BgpAnnouncer, type BgpView } from '../../../speaker/announcers/bgp.js';
import type { BgpManager } from '../../../speaker/bgp/manager.js';
import { CoalescingWorker, forEachBounded, type PassResult } from '../../../speaker/coalescing-worker.js';
import type { ServiceDecision } from '../../../speaker/desired.js';
import { ServiceStatusWriter, STATUS_WRITES_IN_FLIGHT, type StatusClient } from '../../../speaker/service-status.js';
import { bgpServiceStatusObjects } from '../../../speaker/status-sets.js';
import { Told } from '../../../speaker/told.js';
import { parseConfig } from '../../../src/config/parse.js';
import { FakeClock } from '../../../src/core/clock.js';
import { RecordingLogger } from '../../../src/core/logger.js';
import { heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { parseIP } from '../../../src/net/ip.js';

const BGP_STATUS = heraldResource('ServiceBGPStatus');
const NS = 'herald-system';
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Records every request; while `holding`, a request waits until `release()` (or `fail()`). */
class HoldingClient {
  holding = false;
  readonly calls: string[] = [];
  readonly objects = new Map<string, KubeObject>();
  readonly status = new Map<string, unknown>();
  private held: { go: () => void; fail: (e: Error) => void }[] = [];
  failNext = 0;

  get inFlight(): number {
    return this.held.length;
  }

  release(): void {
    for (const h of this.held.splice(0)) h.go();
  }

  private async gate(call: string): Promise<void> {
    this.calls.push(call);
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('connection refused');
    }
    if (this.holding) await new Promise<void>((go, fail) => this.held.push({ go, fail }));
  }

  readonly client: StatusClient = {
    tryGet: async <T extends KubeObject>(_t: unknown, _ns: string | undefined, name: string) => {
      await this.gate(`get ${name}`);
      return this.objects.get(name) as T | undefined;
    },
    get: async <T extends KubeObject>(_t: unknown, _ns: string | undefined, name: string) => {
      await this.gate(`get ${name}`);
      return this.objects.get(name) as T;
    },
    create: async <T extends KubeObject>(_t: unknown, obj: KubeObject) => {
      await this.gate(`create ${obj.metadata.name}`);
      this.objects.set(obj.metadata.name, obj);
      return obj as T;
    },
    tryDelete: async (_t: unknown, _ns: string | undefined, name: string) => {
      await this.gate(`delete ${name}`);
      this.status.delete(name);
      return this.objects.delete(name);
    },
  };

  readonly writer = {
    update: async <T extends KubeObject>(
      _t: unknown,
      _ns: string | undefined,
      name: string,
      mutate: (o: T) => unknown,
    ) => {
      await this.gate(`status ${name}`);
      const obj = this.objects.get(name) as T;
      this.status.set(name, mutate(obj));
      return { result: 'written' as const, object: obj, attempts: 1 };
    },
  };
}

function statusWriter(h: HoldingClient, clock: FakeClock, log = new RecordingLogger()): ServiceStatusWriter {
  return new ServiceStatusWriter({
    client: h.client,
    writer: h.writer,
    namespace: NS,
    node: 'node-a',
    log,
    clock,
    random: () => 0,
    backoff: { baseMs: 1000, maxMs: 8000 },
    kinds: [{ type: BGP_STATUS, minIntervalMs: 0 }],
    own: new Map(),
  });
}

const setOf = (services: readonly string[]): ReadonlyMap<string, ReadonlyMap<string, string>> =>
  new Map([
    [
      BGP_STATUS.plural,
      bgpServiceStatusObjects('node-a', services, {
        bgp: new Map([['router', [{ prefix: '203.0.113.1/32' } as never]]]),
      }),
    ],
  ]);
const names = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `default/svc-${from + i}`);

describe('Service status writer (decision 015 step 0: routes never wait for status)', () => {
  it('while every status write hangs, each announcement pass still hands its routes to the BGP manager', async () => {
    const clock = new FakeClock();
    const h = new HoldingClient();
    h.holding = true;
    const st = statusWriter(h, clock);
    const applied: string[][] = [];
    const manager = {
      apply: (_peers: unknown, routes: Map<string, { prefix: string }[]>) =>
        void applied.push([...(routes.get('router') ?? [])].map((r) => r.prefix)),
      failures: () => new Map(),
      lastErrors: () => new Map(),
      states: () => new Map(),
      bfd: {},
      stopAll: () => undefined,
    } as unknown as BgpManager;
    const bgp = new BgpAnnouncer({ node: 'node-a', manager, events: () => undefined, told: new Told() });
    const config = parseConfig([]).config;
    // What Speaker.sync does at its end: routes to the sessions, then only an offer to the status writer.
    const pass = async (services: readonly string[]): Promise<void> => {
      const decisions: ServiceDecision[] = services.map((s, i) => ({
        service: s,
        ip: parseIP(`203.0.113.${i + 1}`),
        ipText: `203.0.113.${i + 1}`,
        l2: { announce: false, reason: 'notOwner' },
        bgp: { announce: true },
        peers: ['router'],
      }));
      const view: BgpView = {
        decisions,
        routes: new Map([['router', decisions.map((_d, i) => ({ prefix: `203.0.113.${i + 1}/32` }) as never)]]),
        config,
      };
      const a = await bgp.setBalancers(view);
      st.offer(setOf(a.services));
    };
    await pass(names(20));
    await flush();
    expect(h.inFlight, 'writes in flight').to.equal(STATUS_WRITES_IN_FLIGHT);
    // Three more Services assigned while the first status pass hangs: their routes go out at once.
    await pass(names(23));
    await pass(names(24));
    expect(applied.map((a) => a.length)).to.deep.equal([20, 23, 24]);
    expect(applied[2]).to.include('203.0.113.24/32');
    expect(st.passes, 'the second and third offers wait for the first pass').to.equal(1);
    h.holding = false;
    h.release();
    await st.idle();
    // One more pass with the newest set (24 Services), not one per offer.
    expect(st.passes).to.equal(2);
    expect([...h.status.keys()].sort()).to.deep.equal(
      names(24)
        .map((s) => `bgp-default-${s.split('/')[1]}-node-a`)
        .sort(),
    );
  });

  it('many offers during one pass: exactly one more pass, over the newest set', async () => {
    const clock = new FakeClock();
    const h = new HoldingClient();
    h.holding = true;
    const st = statusWriter(h, clock);
    st.offer(setOf(names(1)));
    await flush();
    for (let i = 2; i <= 50; i++) st.offer(setOf(names(i)));
    h.holding = false;
    h.release();
    await st.idle();
    expect(st.passes).to.equal(2);
    expect(h.status.size).to.equal(50);
    // The intermediate sets were never written: each object was written once.
    expect(h.calls.filter((c) => c.startsWith('status ')).length).to.equal(50);
  });

  it('a failed write is logged with the object name and retried after the backoff; a Service gone meanwhile is deleted', async () => {
    const clock = new FakeClock();
    const h = new HoldingClient();
    const log = new RecordingLogger();
    const st = statusWriter(h, clock, log);
    h.failNext = 1;
    st.offer(setOf(['default/a', 'default/b']));
    await st.idle();
    const warn = log.records.find((r) => r.level === 'warn');
    expect(warn?.message).to.match(/^could not write ServiceBGPStatus bgp-default-[ab]-node-a, will retry$/);
    expect(warn?.fields?.['name']).to.match(/^bgp-default-[ab]-node-a$/);
    expect(h.status.size).to.equal(1);
    // A newer set during the backoff waits for it (no hammering a failing server).
    st.offer(setOf(['default/b']));
    await flush();
    expect(st.passes).to.equal(1);
    clock.advance(999);
    await st.idle();
    expect(st.passes).to.equal(1);
    clock.advance(1);
    await flush();
    await st.idle();
    expect(st.passes).to.equal(2);
    expect([...h.status.keys()]).to.deep.equal(['bgp-default-b-node-a']);
    expect(h.objects.has('bgp-default-a-node-a')).to.equal(false);
  });

  it('a kind with a minimum interval (BGPNodeStatus shards, 1 s): one write per object per interval, the newest text, on the injected clock', async () => {
    const clock = new FakeClock();
    const h = new HoldingClient();
    const NODE_STATUS = heraldResource('BGPNodeStatus');
    const st = new ServiceStatusWriter({
      client: h.client,
      writer: h.writer,
      namespace: NS,
      node: 'node-a',
      log: new RecordingLogger(),
      clock,
      kinds: [{ type: NODE_STATUS, minIntervalMs: 1000 }],
      own: new Map(),
    });
    const shards = (a: string, b?: string): ReadonlyMap<string, ReadonlyMap<string, string>> =>
      new Map([[NODE_STATUS.plural, new Map([['node-a-0', a], ...(b ? [['node-a-1', b] as const] : [])])]]);
    const writes = (): string[] => h.calls.filter((c) => c.startsWith('status '));
    st.offer(shards('{"v":1}'));
    await st.idle();
    clock.advance(300);
    st.offer(shards('{"v":2}', '{"w":1}'));
    await st.idle();
    // node-a-1 was never written: at once; node-a-0 waits for its second.
    expect(writes()).to.deep.equal(['status node-a-0', 'status node-a-1']);
    clock.advance(300);
    st.offer(shards('{"v":3}', '{"w":1}'));
    await st.idle();
    clock.advance(399);
    await st.idle();
    expect(writes()).to.have.length(2);
    clock.advance(1);
    await flush();
    await st.idle();
    // One more write of node-a-0, with the newest text; v2 never went out.
    expect(writes()).to.deep.equal(['status node-a-0', 'status node-a-1', 'status node-a-0']);
    expect(h.status.get('node-a-0')).to.deep.equal({ v: 3 });
  });

  it('stop waits for the pass in progress, then deletes every object written', async () => {
    const clock = new FakeClock();
    const h = new HoldingClient();
    const st = statusWriter(h, clock);
    st.offer(setOf(names(3)));
    await st.idle();
    h.holding = true;
    st.offer(setOf(names(4)));
    await flush();
    const stopped = st.stop(10_000);
    await flush();
    expect(
      h.calls.some((c) => c.startsWith('delete')),
      'nothing deleted while the pass runs',
    ).to.equal(false);
    h.holding = false;
    h.release();
    await stopped;
    expect(h.objects.size).to.equal(0);
    expect(h.calls.filter((c) => c.startsWith('delete')).length).to.equal(4);
  });

  it('stop gives up waiting after its bound and still deletes', async () => {
    const clock = new FakeClock();
    const h = new HoldingClient();
    const log = new RecordingLogger();
    const st = statusWriter(h, clock, log);
    st.offer(setOf(names(2)));
    await st.idle();
    h.holding = true;
    st.offer(setOf(names(3)));
    await flush();
    const stopped = st.stop(5000);
    // The pass's write stays held for good; only later requests are answered.
    h.holding = false;
    clock.advance(5000);
    await stopped;
    expect(h.inFlight, 'the pass still hangs').to.equal(1);
    expect(log.records.some((r) => r.fields?.['event'] === 'statusWriteSlow')).to.equal(true);
    expect(h.calls.filter((c) => c.startsWith('delete')).length).to.equal(2);
  });
});

describe('CoalescingWorker', () => {
  it('a pass reporting work due later runs again at that time over the last value', async () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    const results: PassResult[] = [{ outcome: 'due', afterMs: 1000 }, { outcome: 'done' }];
    const w = new CoalescingWorker<number>({
      clock,
      pass: (v) => (seen.push(v), Promise.resolve(results.shift() ?? { outcome: 'done' })),
    });
    w.offer(7);
    await w.idle();
    clock.advance(999);
    await w.idle();
    expect(seen).to.deep.equal([7]);
    clock.advance(1);
    await w.idle();
    expect(seen).to.deep.equal([7, 7]);
  });

  it('again: one more pass over the last value; none before the first offer; a newer waiting value wins', async () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    let release: (() => void) | undefined;
    const w = new CoalescingWorker<number>({
      clock,
      pass: (v) => (seen.push(v), new Promise<PassResult>((r) => (release = () => r({ outcome: 'done' })))),
    });
    w.again();
    expect(seen).to.deep.equal([]);
    w.offer(1);
    await flush();
    w.again();
    release!();
    await flush();
    // The pass over 1 ran while it changed: once more over 1.
    expect(seen).to.deep.equal([1, 1]);
    w.offer(2);
    w.again();
    release!();
    await flush();
    release!();
    await w.idle();
    expect(seen).to.deep.equal([1, 1, 2]);
  });

  it('an offer while a due timer waits runs at once with the new value', async () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    const results: PassResult[] = [{ outcome: 'due', afterMs: 1000 }];
    const w = new CoalescingWorker<number>({
      clock,
      pass: (v) => (seen.push(v), Promise.resolve(results.shift() ?? { outcome: 'done' })),
    });
    w.offer(1);
    await w.idle();
    w.offer(2);
    await w.idle();
    expect(seen).to.deep.equal([1, 2]);
    clock.advance(1000);
    await w.idle();
    expect(seen, 'the old timer was cancelled').to.deep.equal([1, 2]);
  });

  it('forEachBounded never has more than the limit in flight and runs every item', async () => {
    let now = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachBounded([1, 2, 3, 4, 5, 6, 7], 3, async (i) => {
      peak = Math.max(peak, ++now);
      await flush();
      now--;
      done.push(i);
    });
    expect(peak).to.equal(3);
    expect(done.sort()).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
  });
});
