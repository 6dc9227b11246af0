/**
 * SWIM member flaps by link cut, on a SpeakerCluster (issue 18 item 4): the node that owns a
 * Layer 2 Service's address has its own eth0 set down inside its namespace (a cable pull or
 * NIC reset, as test/integration/speaker/link-chaos.test.ts does) and up again, N times. Its
 * speaker keeps running and keeps reaching the API (through its Unix-socket forwarder), so
 * only the failure detector can tell the others. Each time: another node's speaker must log
 * the member gone, the client's arping must be answered by another node (take-over), and
 * after the link is back the member must be logged back and answer for the address again.
 * The other speakers' open fds (by kind: sockets, pipes, anon inodes, …) and RSS are read
 * after flap `warmAfter` and at the end, after a settle; nothing restarts.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { ENDPOINT_SLICES, SECRETS, SERVICES, type KubeObject } from '../../src/k8s/index.js';
import { eventually } from './apiserver.js';
import { arpAnswers, membershipLog } from './api-outage.js';
import type { SpeakerCluster } from './speaker-cluster.js';

export interface ProcessHealth {
  readonly rssKb: number;
  readonly fds: number;
  /** Open fds by what they point at: socket, pipe, anon_inode:[eventfd], /dev/null, … */
  readonly byKind: Readonly<Record<string, number>>;
}

export interface LinkFlapFigures {
  readonly flaps: number;
  readonly victim: string;
  /** Per flap: link down -> the observer logs the member gone; -> arping answered by another node. */
  readonly detectMs: readonly number[];
  readonly takeoverMs: readonly number[];
  /** Per flap: link up -> the observer logs the member back; -> arping answered by the member again. */
  readonly rejoinMs: readonly number[];
  readonly backMs: readonly number[];
  /** The other speakers after flap `warmAfter` and at the end. */
  readonly warm: Readonly<Record<string, ProcessHealth>>;
  readonly end: Readonly<Record<string, ProcessHealth>>;
  /** Speakers that exited during the run (none expected). */
  readonly exited: readonly string[];
  /** Reads the other speakers again. */
  health(): Record<string, ProcessHealth>;
}

export function processHealth(pid: number): ProcessHealth {
  const byKind: Record<string, number> = {};
  const names = readdirSync(`/proc/${pid}/fd`);
  for (const fd of names) {
    let target = '?';
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`)
        .replace(/:\[\d+\]$/, '')
        .replace(/^\/.*$/, 'file');
    } catch {
      // closed between the listing and the read
    }
    byKind[target] = (byKind[target] ?? 0) + 1;
  }
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSyncSafe(`/proc/${pid}/status`));
  return { rssKb: Number(rss?.[1] ?? 0), fds: names.length, byKind };
}

function readFileSyncSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export async function runSwimLinkFlaps(
  e: SpeakerCluster,
  nodeIps: Readonly<Record<string, string>>,
  flaps: number,
  opts: { warmAfter?: number; settleMs?: number; onFlap?: (i: number) => void } = {},
): Promise<LinkFlapFigures> {
  const c = e.c!.client;
  const ns = 'herald-system';
  if (!(await c.tryGet(SECRETS, ns, 'herald-memberlist')))
    await c.create(SECRETS, {
      metadata: { name: 'herald-memberlist', namespace: ns },
      data: { secretkey: Buffer.from('swim-link-flaps-key-0123456789abcdef').toString('base64') },
    } as KubeObject);
  for (const node of Object.keys(nodeIps))
    await eventually(
      () => (e.logs[node] ?? '').includes('SWIM failure detector running') || undefined,
      `SWIM on ${node}`,
      30_000,
      100,
    );
  const name = 'flap-web';
  await c.create(SERVICES, {
    metadata: { name, namespace: 'default', annotations: { 'herald.dev/address-pool': 'lan' } },
    spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80 }] },
  });
  await c.create(ENDPOINT_SLICES, {
    metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: Object.entries(nodeIps).map(([node, ip]) => ({
      addresses: [ip],
      nodeName: node,
      conditions: { ready: true },
    })),
    ports: [{ port: 80 }],
  } as KubeObject);
  const ip = await eventually(
    async () =>
      ((await c.get(SERVICES, 'default', name))['status'] as { loadBalancer?: { ingress?: { ip: string }[] } })
        .loadBalancer?.ingress?.[0]?.ip,
    `an address for ${name}`,
    30_000,
    50,
  );
  const nodeOf = (mac: string): string | undefined => Object.entries(e.macs).find(([, m]) => m === mac)?.[0];
  /** The one node answering for the address (arping from the client), or undefined. */
  const answering = (): string | undefined => {
    const macs = [...arpAnswers(e, ip)];
    return macs.length === 1 ? nodeOf(macs[0]!) : undefined;
  };
  const victim = await eventually(answering, `one node answering ARP for ${ip}`, 30_000, 100);
  const others = Object.keys(nodeIps).filter((n) => n !== victim);
  const observer = others[0]!;
  // SWIM must know every member before the first cut: a member it never heard from cannot be
  // seen leaving (under load the detectors can still be exchanging their first probes here).
  // Only the detector's own lines count: the Lease view logs every member at once (CI once
  // passed this wait on a Lease line while SWIM had not heard from the victim, and then never
  // logged it gone).
  const everyone = Object.keys(nodeIps);
  await eventually(
    () => {
      const alive = membershipLog(e.logs[observer] ?? '', 0, 'swim').at(-1);
      return (alive !== undefined && everyone.every((n) => alive.split(',').includes(n))) || undefined;
    },
    `${observer}'s SWIM to see every member alive`,
    60_000,
    50,
  );
  const pids = Object.fromEntries(others.map((n) => [n, e.speakers[n]!.pid!]));
  const health = (): Record<string, ProcessHealth> =>
    Object.fromEntries(others.map((n) => [n, processHealth(pids[n]!)]));
  const link = (state: 'up' | 'down'): void =>
    void e.net!.exec(e.nodeNs(victim), ['ip', 'link', 'set', 'dev', 'eth0', state]);
  const out = {
    detectMs: [] as number[],
    takeoverMs: [] as number[],
    rejoinMs: [] as number[],
    backMs: [] as number[],
  };
  let warm: Record<string, ProcessHealth> = {};
  try {
    for (let i = 0; i < flaps; i++) {
      const from = (e.logs[observer] ?? '').length;
      const t0 = performance.now();
      link('down');
      await eventually(
        () => membershipLog(e.logs[observer] ?? '', from, 'swim').some((a) => !a.includes(victim)) || undefined,
        `${observer} to see ${victim} gone (flap ${i + 1})`,
        30_000,
        20,
      );
      out.detectMs.push(performance.now() - t0);
      await eventually(
        () => {
          const n = answering();
          return n !== undefined && n !== victim ? n : undefined;
        },
        `another node to answer for ${ip} (flap ${i + 1})`,
        30_000,
        20,
      );
      out.takeoverMs.push(performance.now() - t0);
      const t1 = performance.now();
      const back = (e.logs[observer] ?? '').length;
      link('up');
      await eventually(
        () => membershipLog(e.logs[observer] ?? '', back, 'swim').some((a) => a.includes(victim)) || undefined,
        `${observer} to see ${victim} back (flap ${i + 1})`,
        60_000,
        20,
      );
      out.rejoinMs.push(performance.now() - t1);
      await eventually(
        () => answering() === victim || undefined,
        `${victim} to answer for ${ip} again (flap ${i + 1})`,
        60_000,
        20,
      );
      out.backMs.push(performance.now() - t1);
      if (i + 1 === (opts.warmAfter ?? 2)) warm = health();
      opts.onFlap?.(i + 1);
    }
  } finally {
    link('up');
  }
  // The bench lets the last flap's timers run out before the end reading; a test polls instead.
  if (opts.settleMs) await new Promise((r) => setTimeout(r, opts.settleMs));
  const exited = Object.keys(nodeIps).filter(
    (n) => e.speakers[n]!.exitCode !== null || e.speakers[n]!.signalCode !== null,
  );
  return { flaps, victim, ...out, warm, end: health(), exited, health };
}
