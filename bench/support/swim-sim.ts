/**
 * The speaker's SWIM detector (speaker/membership/swim.ts) at many nodes in one process, on a
 * simulated network, in virtual time: a discrete-event loop over one priority queue of
 * datagram deliveries and member wake-ups. Each member wakes only at its own nextDeadline(),
 * and again after every datagram it receives, as the UDP driver does. Nothing here reads the
 * clock or sleeps; randomness comes from a seed, so a run replays exactly.
 *
 * The network drops each datagram with probability `loss`, delays it by `delayMs` plus a
 * uniform jitter, and drops everything between members in different partitions. Bytes are
 * the UDP payload the driver would send (the signed JSON envelope), counted without the
 * HMAC itself being computed; IP and UDP headers (28 bytes on IPv4) are not included.
 */
import { Swim, type MemberState, type SwimMessage } from '../../speaker/membership/swim.js';
import { seeded } from '../../test/support/seeded.js';

export interface SimNetwork {
  /** Probability that a datagram is lost, 0..1. */
  readonly loss: number;
  readonly delayMs: number;
  readonly jitterMs: number;
}

export interface SimTiming {
  readonly periodMs?: number;
  readonly ackTimeoutMs?: number;
  readonly suspicionMs?: number;
  readonly indirect?: number;
}

export interface SimOptions {
  readonly nodes: number;
  readonly seed: number;
  readonly network: SimNetwork;
  readonly timing?: SimTiming;
}

/** One member's judgement of another changing. */
export interface Transition {
  readonly at: number;
  readonly observer: string;
  readonly member: string;
  readonly state: MemberState;
}

const digits = (n: number): number => (n < 10 ? 1 : Math.floor(Math.log10(n)) + 1);

/**
 * The bytes the UDP driver puts in one datagram, `{"m":"<the message JSON, quotes escaped>",
 * "h":"<64 hex>"}` (swim-codec.ts), added up field by field instead of serialised (names hold
 * no characters JSON escapes). The simulator's unit test checks it against encodeDatagram.
 */
export function datagramBytes(m: SwimMessage): number {
  // Raw JSON length and its count of '"': each '"' costs one more byte once escaped.
  const key = (k: string): number => k.length + 3;
  let raw =
    2 +
    key('type') +
    m.type.length +
    2 +
    1 +
    key('seq') +
    digits(m.seq) +
    1 +
    key('from') +
    m.from.length +
    2 +
    1 +
    key('updates') +
    2;
  let quotes = 4 * 2 + 2 * 2;
  if (m.type === 'pingReq' || m.type === 'indirectAck') {
    raw += 1 + key('target') + m.target.length + 2;
    quotes += 4;
  }
  for (const u of m.updates) {
    raw +=
      2 +
      key('name') +
      u.name.length +
      2 +
      1 +
      key('state') +
      u.state.length +
      2 +
      1 +
      key('incarnation') +
      digits(u.incarnation);
    quotes += 10;
  }
  raw += Math.max(0, m.updates.length - 1);
  return raw + quotes + '{"m":"","h":""}'.length + 64;
}

interface Event {
  readonly at: number;
  readonly seq: number;
  /** A wake-up of member `node` (generation `gen`), or a datagram to it. */
  readonly node: number;
  readonly gen: number;
  readonly message: SwimMessage | undefined;
  readonly from: number;
}

/** A binary min-heap of events by (at, seq). */
class Queue {
  private readonly items: Event[] = [];

  get size(): number {
    return this.items.length;
  }

  private less(a: Event, b: Event): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  push(e: Event): void {
    const h = this.items;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  peek(): Event | undefined {
    return this.items[0];
  }

  pop(): Event | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

export const memberName = (i: number): string => `node-${i}`;

export class SwimSim {
  now = 0;
  readonly names: readonly string[];
  private readonly swims: Swim[] = [];
  private readonly index = new Map<string, number>();
  private readonly down = new Set<number>();
  private group: number[] | undefined;
  private readonly queue = new Queue();
  private seq = 0;
  /** Per member: the wake-up generation that is current, and when it is due. */
  private readonly gen: number[] = [];
  private readonly due: number[] = [];
  private readonly rnd: () => number;
  readonly transitions: Transition[] = [];
  readonly counters = { sent: 0, delivered: 0, lost: 0, bytes: 0, wakeups: 0 };
  /** Bytes sent, per member. */
  readonly bytesBy: number[];

  constructor(private readonly opts: SimOptions) {
    this.rnd = seeded(opts.seed);
    this.names = Array.from({ length: opts.nodes }, (_, i) => memberName(i));
    this.bytesBy = new Array<number>(opts.nodes).fill(0);
    this.names.forEach((n, i) => this.index.set(n, i));
    for (let i = 0; i < opts.nodes; i++) {
      const self = this.names[i]!;
      const swim = new Swim({
        self,
        random: seeded(opts.seed * 7919 + i + 1),
        ...opts.timing,
        onTransition: (member, state, at) => this.transitions.push({ at, observer: self, member, state }),
      });
      swim.setKnown(this.names);
      this.swims.push(swim);
      this.gen.push(0);
      this.due.push(Infinity);
      // Members start spread over the first period, as real speakers start at different times.
      this.wake(i, Math.floor(this.rnd() * (opts.timing?.periodMs ?? 200)));
    }
  }

  swim(name: string): Swim {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`no member ${name}`);
    return this.swims[i]!;
  }

  /** Stops a member: it neither sends nor receives nor wakes again (a crashed node). */
  kill(name: string): void {
    const i = this.index.get(name);
    if (i !== undefined) this.down.add(i);
  }

  isDown(name: string): boolean {
    const i = this.index.get(name);
    return i !== undefined && this.down.has(i);
  }

  /** Members in different lists cannot reach each other; members in no list are on their own. */
  partition(groups: readonly (readonly string[])[]): void {
    const g = new Array<number>(this.names.length).fill(-1).map((_, i) => -1 - i);
    groups.forEach((members, k) => {
      for (const n of members) {
        const i = this.index.get(n);
        if (i !== undefined) g[i] = k;
      }
    });
    this.group = g;
  }

  heal(): void {
    this.group = undefined;
  }

  private wake(i: number, at: number): void {
    if (at >= this.due[i]!) return;
    this.due[i] = at;
    this.gen[i]!++;
    this.queue.push({ at, seq: this.seq++, node: i, gen: this.gen[i]!, message: undefined, from: -1 });
  }

  /** As the driver: sleep until the detector's next deadline, at least 1 ms away. */
  private reschedule(i: number): void {
    const next = Math.max(this.now + 1, this.swims[i]!.nextDeadline(this.now));
    this.due[i] = Infinity;
    this.wake(i, next);
  }

  private send(from: number, sends: readonly { to: string; message: SwimMessage }[]): void {
    const { loss, delayMs, jitterMs } = this.opts.network;
    for (const s of sends) {
      const to = this.index.get(s.to);
      if (to === undefined) continue;
      const bytes = datagramBytes(s.message);
      this.counters.sent++;
      this.counters.bytes += bytes;
      this.bytesBy[from]! += bytes;
      if (loss > 0 && this.rnd() < loss) {
        this.counters.lost++;
        continue;
      }
      const at = this.now + delayMs + (jitterMs > 0 ? this.rnd() * jitterMs : 0);
      this.queue.push({ at, seq: this.seq++, node: to, gen: 0, message: s.message, from });
    }
  }

  /** Runs every event due up to `until` (virtual ms), then sets the clock there. */
  runUntil(until: number): void {
    for (;;) {
      const e = this.queue.peek();
      if (!e || e.at > until) break;
      this.queue.pop();
      this.now = e.at;
      const i = e.node;
      if (this.down.has(i)) continue;
      if (e.message === undefined) {
        if (e.gen !== this.gen[i]) continue;
        this.due[i] = Infinity;
        this.counters.wakeups++;
        this.send(i, this.swims[i]!.tick(this.now).sends);
        this.reschedule(i);
        continue;
      }
      if (this.down.has(e.from) || (this.group && this.group[e.from] !== this.group[i])) {
        this.counters.lost++;
        continue;
      }
      this.counters.delivered++;
      this.send(i, this.swims[i]!.receive(e.message, this.now).sends);
      this.reschedule(i);
    }
    this.now = until;
  }
}
