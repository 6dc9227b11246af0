/** Which Events a start re-derives from status: table cases over missingEvents (pure). */
import { expect } from 'chai';
import { missingEvents, type SeenEvent } from '../../../controller/event-rederive.js';
import type { KubeObject } from '../../../src/k8s/index.js';

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
