/**
 * The node's network links as the kernel reports them: a NETLINK_ROUTE socket subscribed to
 * link and address notifications keeps a table (name, ifindex, flags, MTU, MAC, addresses)
 * and tells listeners what changed — a link added, removed or re-created with a new ifindex,
 * going down or up (administratively or by carrier), its MTU or addresses changing. When the
 * kernel drops notifications (ENOBUFS) the table is dumped again and the difference reported.
 */
import { endianness } from 'node:os';
import { errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { formatIP, type IP } from '../../src/net/ip.js';
import type { NativeAddon, NetlinkSocketHandle } from '../../native/index.js';
import { dumpRequest, IFF_LOWER_UP, IFF_UP, parseNetlink, type ByteOrder, type NetlinkMessage } from './netlink.js';

/** One link of this node, as the Layer 2 engine selects and opens interfaces. */
export interface Iface {
  readonly name: string;
  readonly index: number;
  readonly mac: Buffer;
  /** Administratively up and with carrier (IFF_UP and IFF_LOWER_UP). */
  readonly up: boolean;
  readonly mtu: number;
  readonly addrs: readonly { readonly ip: IP; readonly prefix: number }[];
}

export type LinkChangeKind = 'added' | 'removed' | 'recreated' | 'up' | 'down' | 'mtu' | 'addresses';

export interface LinkChange {
  readonly kind: LinkChangeKind;
  readonly name: string;
  readonly index: number;
}

/** What the Layer 2 engine needs to know of the links. */
export interface LinkSource {
  interfaces(): readonly Iface[];
  onChange(listener: (changes: readonly LinkChange[]) => void): void;
}

interface Row {
  index: number;
  name: string;
  flags: number;
  mtu: number;
  mac: Buffer;
  addrs: Map<string, { ip: IP; prefix: number }>;
}

const isUp = (flags: number): boolean => (flags & IFF_UP) !== 0 && (flags & IFF_LOWER_UP) !== 0;

/** The pure part: applies netlink messages to a link table and returns what changed. */
export class LinkTable {
  private readonly rows = new Map<number, Row>();
  /** During a dump: the ifindexes seen, to find links that went away unseen. */
  private seen: Set<number> | undefined;

  beginDump(): void {
    this.seen = new Set();
  }

  /** Ends a link dump: links not in it are gone. */
  endDump(): LinkChange[] {
    const changes: LinkChange[] = [];
    if (!this.seen) return changes;
    for (const [index, row] of this.rows) {
      if (this.seen.has(index) || row.name === 'lo') continue;
      this.rows.delete(index);
      changes.push({ kind: 'removed', name: row.name, index });
    }
    this.seen = undefined;
    return changes;
  }

  private addrsBefore: Map<number, string> | undefined;

  /** Starts an address dump: every address is read again. */
  beginAddressDump(): void {
    this.addrsBefore = new Map([...this.rows].map(([i, r]) => [i, [...r.addrs.keys()].sort().join(',')]));
    for (const r of this.rows.values()) r.addrs.clear();
  }

  /** Ends an address dump: links whose addresses differ from before it are reported. */
  endAddressDump(): LinkChange[] {
    const before = this.addrsBefore;
    this.addrsBefore = undefined;
    if (!before) return [];
    const changes: LinkChange[] = [];
    for (const [index, r] of this.rows) {
      if (r.name !== 'lo' && before.has(index) && before.get(index) !== [...r.addrs.keys()].sort().join(','))
        changes.push({ kind: 'addresses', name: r.name, index });
    }
    return changes;
  }

  apply(m: NetlinkMessage): LinkChange[] {
    if (m.type === 'link') {
      this.seen?.add(m.index);
      const old = this.rows.get(m.index);
      if (m.deleted) {
        if (!old) return [];
        this.rows.delete(m.index);
        return m.name === 'lo' ? [] : [{ kind: 'removed', name: old.name, index: m.index }];
      }
      const row: Row = {
        index: m.index,
        name: m.name,
        flags: m.flags,
        mtu: m.mtu ?? old?.mtu ?? 0,
        mac: m.mac ?? old?.mac ?? Buffer.alloc(6),
        addrs: old?.addrs ?? new Map(),
      };
      const changes: LinkChange[] = [];
      // The same name under another ifindex: the interface was deleted and created again.
      for (const [index, other] of this.rows) {
        if (index !== m.index && other.name === m.name) {
          this.rows.delete(index);
          changes.push({ kind: 'recreated', name: m.name, index: m.index });
        }
      }
      this.rows.set(m.index, row);
      if (m.name === 'lo') return [];
      if (!old) {
        if (changes.length === 0) changes.push({ kind: 'added', name: m.name, index: m.index });
        return changes;
      }
      if (old.name !== m.name)
        changes.push(
          { kind: 'removed', name: old.name, index: m.index },
          { kind: 'added', name: m.name, index: m.index },
        );
      if (isUp(old.flags) !== isUp(m.flags))
        changes.push({ kind: isUp(m.flags) ? 'up' : 'down', name: m.name, index: m.index });
      if (old.mtu !== row.mtu) changes.push({ kind: 'mtu', name: m.name, index: m.index });
      return changes;
    }
    if (m.type === 'address') {
      const row = this.rows.get(m.index);
      if (!row) return [];
      const key = `${formatIP(m.ip)}/${m.prefix}`;
      const had = row.addrs.has(key);
      if (m.deleted) row.addrs.delete(key);
      else row.addrs.set(key, { ip: m.ip, prefix: m.prefix });
      if (had === !m.deleted || row.name === 'lo' || this.addrsBefore) return [];
      return [{ kind: 'addresses', name: row.name, index: m.index }];
    }
    return [];
  }

  /** Every link but loopback. */
  interfaces(): Iface[] {
    return [...this.rows.values()]
      .filter((r) => r.name !== 'lo')
      .map((r) => ({
        name: r.name,
        index: r.index,
        mac: r.mac,
        up: isUp(r.flags),
        mtu: r.mtu,
        addrs: [...r.addrs.values()],
      }));
  }
}

export interface NetlinkLinksOptions {
  readonly native: Pick<NativeAddon, 'NetlinkSocket'>;
  readonly logger: Logger;
}

/** The LinkSource of a real node: NETLINK_ROUTE notifications applied to a LinkTable. */
export class NetlinkLinks implements LinkSource {
  private readonly table = new LinkTable();
  private readonly listeners: ((changes: readonly LinkChange[]) => void)[] = [];
  private readonly order: ByteOrder = endianness();
  private sock: NetlinkSocketHandle | undefined;
  private seq = 1;
  /** The dump in progress ('links' then 'addresses'), and whether another was asked for meanwhile. */
  private dumping: 'links' | 'addresses' | undefined;
  private redump = false;
  private readyResolve: (() => void) | undefined;
  readonly counters = { messages: 0, malformed: 0, overruns: 0 };

  constructor(private readonly opts: NetlinkLinksOptions) {}

  /** Opens the socket and dumps the links and addresses; resolves when the table is complete. */
  start(): Promise<void> {
    const ready = new Promise<void>((resolve) => (this.readyResolve = resolve));
    this.sock = new this.opts.native.NetlinkSocket();
    this.sock.start(
      (datagram) => this.onDatagram(datagram),
      (message) => this.onError(message),
    );
    this.dump('links');
    return ready;
  }

  interfaces(): readonly Iface[] {
    return this.table.interfaces();
  }

  onChange(listener: (changes: readonly LinkChange[]) => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.sock?.close();
    this.sock = undefined;
  }

  private dump(what: 'links' | 'addresses'): void {
    if (!this.sock) return;
    this.dumping = what;
    if (what === 'links') this.table.beginDump();
    else this.table.beginAddressDump();
    try {
      this.sock.send(dumpRequest(what, this.seq++, this.order));
    } catch (err) {
      this.opts.logger.error('cannot ask the kernel for the links', {
        event: 'linkDumpFailed',
        error: errorMessage(err),
      });
      this.dumping = undefined;
    }
  }

  private onError(message: string): void {
    // ENOBUFS: notifications were lost; the table may be wrong until it is read again.
    this.counters.overruns++;
    this.opts.logger.warn('link notifications lost, reading every link again', {
      event: 'linkNotificationsLost',
      error: message,
    });
    if (this.dumping) this.redump = true;
    else this.dump('links');
  }

  private onDatagram(datagram: Buffer): void {
    const parsed = parseNetlink(datagram, this.order);
    if (!parsed.ok) {
      this.counters.malformed++;
      this.opts.logger.warn('malformed netlink message ignored', { event: 'netlinkMalformed', reason: parsed.reason });
    }
    const changes: LinkChange[] = [];
    for (const m of parsed.messages) {
      this.counters.messages++;
      if (m.type === 'done' || m.type === 'error') {
        if (m.type === 'error' && m.errno !== 0)
          this.opts.logger.warn('the kernel refused a link dump', { event: 'linkDumpFailed', errno: m.errno });
        if (this.dumping === 'links') {
          changes.push(...this.table.endDump());
          this.dump('addresses');
        } else if (this.dumping === 'addresses') {
          changes.push(...this.table.endAddressDump());
          this.dumping = undefined;
          if (this.redump) {
            this.redump = false;
            this.dump('links');
          } else if (this.readyResolve) {
            this.readyResolve();
            this.readyResolve = undefined;
          }
        }
        continue;
      }
      changes.push(...this.table.apply(m));
    }
    if (changes.length === 0 || this.readyResolve) return;
    for (const l of this.listeners) l(changes);
  }
}
