/**
 * Which Events a start re-derives from status: table cases over missingEvents (pure); and
 * listControllerEvents over a recording fake of the client's paged list.
 */
import { expect } from 'chai';
import { listControllerEvents, missingEvents, type SeenEvent } from '../../../controller/event-rederive.js';
import { RecordingLogger, nullLogger } from '../../../src/core/logger.js';
import type { KubeObject, ListOptions, ListResult, ResourceType } from '../../../src/k8s/index.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');

function svc(uid: string, cond?: { status: string; reason: string; message: string; at: string }): KubeObject {
  return {
    metadata: { name: uid, namespace: 'default', uid },
    spec: { type: 'LoadBalancer' },
    status: cond
      ? {
          conditions: [
            {
              type: 'herald.dev/AddressAssigned',
              status: cond.status,
              reason: cond.reason,
              message: cond.message,
              lastTransitionTime: cond.at,
            },
          ],
        }
      : {},
  };
}

const recent = '2026-01-01T11:30:00Z';
const cases: { name: string; svc: KubeObject; seen: SeenEvent[]; managed?: boolean; want: string[] }[] = [
  {
    name: 'Assigned without its Event gets IPAllocated',
    svc: svc('a', { status: 'True', reason: 'Assigned', message: '192.0.2.0 from pool "main"', at: recent }),
    seen: [],
    want: ['IPAllocated assigned 192.0.2.0 from pool "main"'],
  },
  {
    name: 'Assigned with its Event gets nothing',
    svc: svc('a', { status: 'True', reason: 'Assigned', message: '192.0.2.0 from pool "main"', at: recent }),
    seen: [{ uid: 'a', reason: 'IPAllocated', message: 'assigned 192.0.2.0 from pool "main"' }],
    want: [],
  },
  {
    name: 'an Event for an older address does not count',
    svc: svc('a', { status: 'True', reason: 'Assigned', message: '192.0.2.1 from pool "main"', at: recent }),
    seen: [{ uid: 'a', reason: 'IPAllocated', message: 'assigned 192.0.2.0 from pool "main"' }],
    want: ['IPAllocated assigned 192.0.2.1 from pool "main"'],
  },
  {
    name: 'a failure matches its Event with the pool suffix',
    svc: svc('f', {
      status: 'False',
      reason: 'PoolExhausted',
      message: 'pool "main" has no free IPv4 address',
      at: recent,
    }),
    seen: [
      {
        uid: 'f',
        reason: 'AllocationFailed',
        message: 'PoolExhausted: pool "main" has no free IPv4 address (pool "main")',
      },
    ],
    want: [],
  },
  {
    name: 'a failure without its Event gets AllocationFailed',
    svc: svc('f', {
      status: 'False',
      reason: 'RequestedIPInUse',
      message: '192.0.2.1 is in use by default/b',
      at: recent,
    }),
    seen: [],
    want: ['AllocationFailed RequestedIPInUse: 192.0.2.1 is in use by default/b'],
  },
  {
    name: 'IPNotInPool',
    svc: svc('n', { status: 'True', reason: 'IPNotInPool', message: '192.0.2.9 is no longer in a pool', at: recent }),
    seen: [],
    want: ['IPNotInPool 192.0.2.9 is no longer in a pool'],
  },
  {
    name: 'a condition older than the window has nothing to re-derive',
    svc: svc('o', {
      status: 'True',
      reason: 'Assigned',
      message: '192.0.2.0 from pool "main"',
      at: '2026-01-01T10:00:00Z',
    }),
    seen: [],
    want: [],
  },
  { name: 'no condition, nothing', svc: svc('x'), seen: [], want: [] },
  {
    name: 'a Service Herald does not serve, nothing',
    svc: svc('u', { status: 'True', reason: 'Assigned', message: '192.0.2.0 from pool "main"', at: recent }),
    seen: [],
    managed: false,
    want: [],
  },
];

describe('controller: Events re-derived from status', () => {
  for (const tc of cases) {
    it(tc.name, () => {
      const out = missingEvents([tc.svc], tc.seen, {
        nowMs: NOW,
        windowMs: 3_600_000,
        managed: () => tc.managed ?? true,
      });
      expect(out.map((o) => `${o.e.reason} ${o.e.message}`)).to.deep.equal(tc.want);
      for (const o of out)
        expect(o.ref).to.deep.equal({
          apiVersion: 'v1',
          kind: 'Service',
          name: tc.svc.metadata.name,
          namespace: 'default',
          uid: tc.svc.metadata.uid,
        });
    });
  }
});

describe('controller: the Events a start reads', () => {
  const event = (i: number, component: string): KubeObject => ({
    metadata: { name: `e-${i}`, namespace: 'default' },
    involvedObject: { kind: 'Service', name: `s-${i}`, namespace: 'default', uid: `u-${i}` },
    reason: 'IPAllocated',
    message: `assigned 192.0.2.${i} from pool "main"`,
    source: { component },
  });
  /** Pages of two; records what each call asked for. */
  function pagedClient(events: KubeObject[], fail?: Error) {
    const calls: ListOptions[] = [];
    return {
      calls,
      list: <T extends KubeObject>(t: ResourceType, opts: ListOptions = {}): Promise<ListResult<T>> => {
        calls.push(opts);
        expect(t.plural).to.equal('events');
        if (fail) return Promise.reject(fail);
        const from = Number(opts.continue ?? '0');
        const next = from + 2 < events.length ? { continue: String(from + 2) } : {};
        return Promise.resolve({ items: events.slice(from, from + 2) as T[], resourceVersion: '7', ...next });
      },
    };
  }

  it('reads every page, one at a time, and keeps only what herald-controller wrote', async () => {
    const events = [0, 1, 2, 3, 4].map((i) => event(i, i === 2 ? 'someone-else' : 'herald-controller'));
    const client = pagedClient(events);
    const seen = await listControllerEvents(client, nullLogger);
    expect(seen).to.deep.equal(
      [0, 1, 3, 4].map((i) => ({
        uid: `u-${i}`,
        reason: 'IPAllocated',
        message: `assigned 192.0.2.${i} from pool "main"`,
      })),
    );
    expect(client.calls).to.deep.equal([
      { fieldSelector: 'involvedObject.kind=Service', limit: 500 },
      { fieldSelector: 'involvedObject.kind=Service', limit: 500, continue: '2' },
      { fieldSelector: 'involvedObject.kind=Service', limit: 500, continue: '4' },
    ]);
  });

  it('answers undefined, and says so, when the Events cannot be listed', async () => {
    const log = new RecordingLogger();
    expect(await listControllerEvents(pagedClient([], new Error('events is forbidden')), log)).to.equal(undefined);
    expect(log.records.map((r) => [r.level, r.fields['event'], r.fields['error']])).to.deep.equal([
      ['warn', 'eventListFailed', 'events is forbidden'],
    ]);
  });
});
