import { expect } from 'chai';
import { EventPump } from '../../../controller/event-pump.js';
import type { EventIntent } from '../../../controller/reconcile.js';
import { FakeClock } from '../../../src/core/clock.js';
import { WorkQueue } from '../../../src/k8s/queue.js';
import type { ObjectReference } from '../../../src/k8s/index.js';

const ref = (name: string): ObjectReference => ({ kind: 'Service', apiVersion: 'v1', namespace: 'default', name });
const allocated: EventIntent = { type: 'Normal', reason: 'IPAllocated', message: 'Assigned IP ["192.0.2.1"]' };

/** Lets every promise that can settle settle (no timers: the fake clock only moves when told). */
const drainMicrotasks = (): Promise<void> => new Promise((r) => setImmediate(r));

function rig(): { clock: FakeClock; queue: WorkQueue; pump: EventPump; recorded: string[] } {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  const recorded: string[] = [];
  const pump = new EventPump({
    clock,
    work: queue,
    delayMs: 2000,
    record: (r, e) => recorded.push(`${r.name} ${e.reason}`),
  });
  return { clock, queue, pump, recorded };
}

describe('controller: Events wait for the queued Service writes (EventPump, fake clock)', () => {
  it('with nothing queued an Event is handed over at once, without a timer', async () => {
    const { clock, pump, recorded } = rig();
    pump.push(ref('a'), allocated);
    await drainMicrotasks();
    expect(recorded).to.deep.equal(['a IPAllocated']);
    expect(clock.pending()).to.equal(0);
  });

  it('while Services are queued it waits, and goes the moment the queue empties (no polling timer)', async () => {
    const { clock, queue, pump, recorded } = rig();
    queue.add('default/b');
    queue.add('default/c');
    pump.push(ref('a'), allocated);
    pump.push(ref('b'), allocated);
    await drainMicrotasks();
    expect(recorded).to.deep.equal([]);
    // One timer: the first Event's deadline. A poll would have left a 20 ms timer to advance.
    expect(clock.pending()).to.equal(1);
    clock.advance(1999);
    await drainMicrotasks();
    expect(recorded).to.deep.equal([]);
    await queue.get();
    await drainMicrotasks();
    expect(recorded).to.deep.equal([]);
    await queue.get();
    await drainMicrotasks();
    expect(recorded).to.deep.equal(['a IPAllocated', 'b IPAllocated']);
    expect(clock.pending()).to.equal(0);
    await pump.idle();
  });

  it('a queue that never empties holds an Event no longer than its delay; a later Event keeps its own deadline', async () => {
    const { clock, queue, pump, recorded } = rig();
    queue.add('default/busy');
    pump.push(ref('a'), allocated);
    clock.advance(500);
    pump.push(ref('b'), allocated);
    await drainMicrotasks();
    clock.advance(1499);
    await drainMicrotasks();
    expect(recorded).to.deep.equal([]);
    clock.advance(1);
    await drainMicrotasks();
    expect(recorded).to.deep.equal(['a IPAllocated']);
    clock.advance(499);
    await drainMicrotasks();
    expect(recorded).to.deep.equal(['a IPAllocated']);
    clock.advance(1);
    await drainMicrotasks();
    expect(recorded).to.deep.equal(['a IPAllocated', 'b IPAllocated']);
  });

  it('stop: the queue shutting down wakes the pump and what is pending goes at once', async () => {
    const { queue, pump, recorded } = rig();
    queue.add('default/busy');
    pump.push(ref('a'), allocated);
    await drainMicrotasks();
    expect(recorded).to.deep.equal([]);
    pump.stop();
    queue.shutdown();
    await pump.idle();
    expect(recorded).to.deep.equal(['a IPAllocated']);
    pump.push(ref('b'), allocated);
    await pump.idle();
    expect(recorded).to.deep.equal(['a IPAllocated', 'b IPAllocated']);
  });
});
