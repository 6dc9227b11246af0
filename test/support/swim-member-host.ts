/**
 * Hosts one or more real SWIM members (speaker/membership/swim-driver.ts: real UDP, signed
 * datagrams, the system clock) in one process, each bound to its own address, for
 * test/support/swim-real.ts. Run inside a network namespace that holds those addresses.
 *
 *   node --import tsx test/support/swim-member-host.ts '<HostConfig JSON>'
 *
 * stdout, one JSON object a line: `{"ready":true}` once every socket is bound; `{"tr":[epochMs,
 * observer, member, state]}` for every change in a hosted member's judgement of another;
 * `{"report":{...}}` when asked. stdin commands, one JSON object a line: `{"cmd":"go"}` (tell
 * every hosted member who the members are: probing starts), `{"cmd":"mark"}` (start a window
 * for the event-loop delay and CPU figures), `{"cmd":"report"}`, `{"cmd":"stop"}` (a clean
 * leave, then exit).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { systemClock } from '../../src/core/clock.js';
import { nullLogger } from '../../src/core/logger.js';
import { SwimMembership } from '../../speaker/membership/swim-driver.js';

export interface HostConfig {
  /** The memberlist key, hex. */
  readonly key: string;
  readonly port: number;
  /** Every member of the cluster, name and IPv4 address. */
  readonly members: readonly { readonly name: string; readonly address: string }[];
  /** The names this process hosts. */
  readonly host: readonly string[];
}

/** What a host prints when asked for a report. */
export interface HostReport {
  readonly sent: number;
  readonly sentBytes: number;
  readonly received: number;
  readonly rejected: number;
  /** CPU time (user + system) since the last mark, ms, and the wall time it covers. */
  readonly cpuMs: number;
  readonly wallMs: number;
  /** Event-loop delay since the last mark (ms): how late timers and datagrams were handled. */
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
}

function main(): void {
  const raw = process.argv[2];
  if (!raw) throw new Error('usage: swim-member-host.ts <HostConfig JSON>');
  const cfg = JSON.parse(raw) as HostConfig;
  const addresses = new Map(cfg.members.map((m) => [m.name, m.address]));
  const out = (o: object): void => {
    process.stdout.write(`${JSON.stringify(o)}\n`);
  };
  const clock = systemClock();
  const members = cfg.host.map((name) => {
    const bindAddress = addresses.get(name);
    if (!bindAddress) throw new Error(`member ${name} is not in the member list`);
    return new SwimMembership({
      node: name,
      key: Buffer.from(cfg.key, 'hex'),
      port: cfg.port,
      bindAddress,
      clock,
      logger: nullLogger,
      addressOf: (n) => addresses.get(n),
      onChange: () => undefined,
      // The driver's monotonic clock is performance.now(); the epoch form compares across processes.
      onTransition: (member, state, now) => out({ tr: [performance.timeOrigin + now, name, member, state] }),
    });
  });
  // The histogram's samples are the time between checks: the interval itself plus the delay.
  const resolutionMs = 10;
  const lag = monitorEventLoopDelay({ resolution: resolutionMs });
  const delay = (ns: number): number => Math.max(0, ns / 1e6 - resolutionMs);
  lag.enable();
  let markCpu = process.cpuUsage();
  let markAt = performance.now();

  const report = (): HostReport => {
    const sum = (k: 'sent' | 'sentBytes' | 'received' | 'rejected'): number =>
      members.reduce((a, m) => a + m.counters[k], 0);
    const cpu = process.cpuUsage(markCpu);
    return {
      sent: sum('sent'),
      sentBytes: sum('sentBytes'),
      received: sum('received'),
      rejected: sum('rejected'),
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs: performance.now() - markAt,
      lagP50Ms: delay(lag.percentile(50)),
      lagP99Ms: delay(lag.percentile(99)),
      lagMaxMs: delay(lag.max),
    };
  };

  createInterface({ input: process.stdin }).on('line', (line) => {
    const { cmd } = JSON.parse(line) as { cmd: string };
    if (cmd === 'go') for (const m of members) m.setMembers(cfg.members.map((x) => x.name));
    else if (cmd === 'mark') {
      lag.reset();
      markCpu = process.cpuUsage();
      markAt = performance.now();
    } else if (cmd === 'report') out({ report: report() });
    else if (cmd === 'stop') {
      for (const m of members) m.stop();
      // stop() closes each socket on the next turn, after its leave datagrams.
      setImmediate(() => setImmediate(() => process.exit(0)));
    } else process.stderr.write(`swim-member-host: unknown command ${JSON.stringify(cmd)}\n`);
  });

  void Promise.all(members.map((m) => m.start())).then(
    () => out({ ready: true }),
    (err: Error) => {
      process.stderr.write(`swim-member-host: ${err.message}\n`);
      process.exit(1);
    },
  );
}

main();
