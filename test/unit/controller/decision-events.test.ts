/** Decision Events (IPConflict, IPReleased) owed by a Service before its status write: a recording fake writer and a fake clock. */
import { expect } from 'chai';
import { DecisionEvents, EventNotWritten } from '../../../controller/decision-events.js';
import type { EventIntent } from '../../../controller/reconcile.js';
import { FakeClock } from '../../../src/core/clock.js';
import type { ObjectReference } from '../../../src/k8s/index.js';

const REF: ObjectReference = { apiVersion: 'v1', kind: 'Service', name: 'a', namespace: 'default', uid: 'u-a' };
const CONFLICT: EventIntent = {
  type: 'Warning',
  reason: 'IPConflict',
  message: '192.0.2.0 is held by default/b (RequestedIPInUse); assigned 192.0.2.1 instead',
};
const ALLOCATED: EventIntent = {
  type: 'Normal',
  reason: 'IPAllocated',
  message: 'assigned 192.0.2.1 from pool "main"',
};

/** A writer whose answers the test gives, one per write. */
function writer(): {
  calls: EventIntent[];
  answer: (ok: boolean) => void;
  record: (ref: ObjectReference, e: EventIntent) => Promise<boolean>;
} {
  const calls: EventIntent[] = [];
  const waiting: ((ok: boolean) => void)[] = [];
  return {
    calls,
    answer: (ok) => waiting.shift()!(ok),
    record: (_ref, e) => {
      calls.push(e);
      return new Promise<boolean>((resolve) => waiting.push(resolve));
    },
  };
}

/** Lets the promise run until it waits on the clock or the writer. */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('controller: decision Events before the decision', () => {
  it('only decision Events are owed, each once', async () => {
    const clock = new FakeClock();
    const w = writer();
    const d = new DecisionEvents({ clock, record: w.record });
    d.owe('default/a', [CONFLICT, ALLOCATED]);
    d.owe('default/a', [CONFLICT]);
    const settled = d.settle('default/a', REF);
    await turn();
    w.answer(true);
    await settled;
    expect(w.calls).to.deep.equal([CONFLICT]);
    await d.settle('default/a', REF);
    expect(w.calls, 'nothing owed after it was written').to.have.length(1);
  });

  it('a write not answered in time fails the sync; the next sync waits for the same write, not a second one', async () => {
    const clock = new FakeClock();
    const w = writer();
    const d = new DecisionEvents({ clock, record: w.record, waitMs: 2000 });
    d.owe('default/a', [CONFLICT]);
    const first = d.settle('default/a', REF).then(
      () => 'settled',
      (e: unknown) => e,
    );
    await turn();
    clock.advance(2000);
    expect(await first).to.be.instanceOf(EventNotWritten);
    const second = d.settle('default/a', REF);
    await turn();
    w.answer(true);
    await second;
    expect(w.calls).to.have.length(1);
  });

  it('a failed write is tried again by the next sync', async () => {
    const clock = new FakeClock();
    const w = writer();
    const d = new DecisionEvents({ clock, record: w.record });
    d.owe('default/a', [CONFLICT]);
    const first = d.settle('default/a', REF).then(
      () => 'settled',
      (e: unknown) => e,
    );
    await turn();
    w.answer(false);
    expect(await first).to.be.instanceOf(EventNotWritten);
    const second = d.settle('default/a', REF);
    await turn();
    w.answer(true);
    await second;
    expect(w.calls).to.have.length(2);
  });

  it('an Event the server held at start is not written again', async () => {
    const w = writer();
    const d = new DecisionEvents({ clock: new FakeClock(), record: w.record });
    d.seen([{ uid: 'u-a', reason: CONFLICT.reason, message: CONFLICT.message }]);
    d.owe('default/a', [CONFLICT]);
    await d.settle('default/a', REF);
    expect(w.calls).to.deep.equal([]);
    expect(d.onServerAtStart('u-a', CONFLICT)).to.equal(true);
    expect(d.onServerAtStart('u-b', CONFLICT)).to.equal(false);
  });

  it('of the Events held at start, only the reasons a start asks about are kept', () => {
    const d = new DecisionEvents({ clock: new FakeClock(), record: writer().record });
    const METALLB: EventIntent = {
      type: 'Normal',
      reason: 'MetalLBAnnotation',
      message: 'uses MetalLB annotation metallb.universe.tf/address-pool',
    };
    const RELEASED: EventIntent = { type: 'Normal', reason: 'IPReleased', message: 'released 192.0.2.1' };
    d.seen([CONFLICT, RELEASED, METALLB, ALLOCATED].map((e) => ({ uid: 'u-a', reason: e.reason, message: e.message })));
    expect(d.onServerAtStart('u-a', CONFLICT)).to.equal(true);
    expect(d.onServerAtStart('u-a', RELEASED)).to.equal(true);
    expect(d.onServerAtStart('u-a', METALLB)).to.equal(true);
    // One per Service at 100k: not kept (nothing asks, and the keys were ~30 MB).
    expect(d.onServerAtStart('u-a', ALLOCATED)).to.equal(false);
  });

  it('a deleted Service owes nothing', async () => {
    const w = writer();
    const d = new DecisionEvents({ clock: new FakeClock(), record: w.record });
    d.owe('default/a', [CONFLICT]);
    d.forget('default/a');
    await d.settle('default/a', REF);
    expect(w.calls).to.deep.equal([]);
  });
});
