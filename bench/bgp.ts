/**
 * bench/bgp (issue #5): N IPv4 /32s and M IPv6 /128s announced to a BIRD peer over one eBGP
 * session (IPv4 transport, both families): the time from Established until BIRD holds them all,
 * the UPDATE messages on the wire (counted from a tcpdump capture, decoded), then withdraw
 * trials (one prefix removed -> gone from BIRD's table, BIRD's control socket polled every
 * 2 ms) and the RSS of the process running Herald's session. In the same run the same prefix
 * set is announced to a fresh BIRD by FRR bgpd (`network` statements) and by gobgpd (its
 * global RIB loaded through the gRPC API while the neighbor is administratively down, then
 * the neighbor enabled), for the ratios. Herald's session runs in plain node from an esbuild
 * bundle of the test driver, so its RSS is the engine's and not a TypeScript loader's.
 *
 * Addresses: IPv4 prefixes from 198.18.0.0/15 (RFC 2544, benchmarks only: 100k do not fit the
 * documentation ranges), IPv6 from 2001:db8::/32, links on 192.0.2.0/24 and 2001:db8::/64.
 *
 *   sudo npx tsx bench/bgp.ts [--v4 100000] [--v6 20000] [--trials 20] [--no-frr] [--no-gobgp]
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import { Netns } from '../lab/netns.js';
import { decode } from '../speaker/bgp/codec.js';
import { DEFAULT_CODEC } from '../speaker/bgp/messages.js';
import { formatIP } from '../src/net/ip.js';
import { birdConf } from '../test/support/bird-conf.js';
import { REPO_ROOT } from '../test/support/crds.js';
import { readPcap, tcpStream } from '../test/support/pcap.js';
import { startTcpdump } from '../test/support/tcpdump.js';
import { BirdCtl } from './support/bird-ctl.js';
import { GobgpApi } from './support/gobgp-api.js';
import { rssBytes } from './support/proc-stats.js';
import { arg, pct, until } from './support/common.js';

const SPK = { v4: '192.0.2.1', v6: '2001:db8::1' };
const RTR = { v4: '192.0.2.2', v6: '2001:db8::2' };
const V4_BASE = 198n * 2n ** 24n + 18n * 2n ** 16n; // 198.18.0.0
const V6_BASE = 0x20010db8000b0000n << 64n; // 2001:db8:b::

const v4 = (i: number): string => `${formatIP({ family: 'IPv4', value: V4_BASE + BigInt(i) })}/32`;
const v6 = (i: number): string => `${formatIP({ family: 'IPv6', value: V6_BASE + BigInt(i) })}/128`;

interface Bird {
  ctl: BirdCtl;
  pid: number;
  stop(): void;
}

async function startBird(net: Netns, ns: string, dir: string, name: string): Promise<Bird> {
  const d = join(dir, name);
  spawnSync('mkdir', ['-p', d]);
  writeFileSync(
    join(d, 'bird.conf'),
    birdConf({
      routerId: RTR.v4,
      as: 65001,
      neighbors: [
        { name: 'spk', address: SPK.v4, as: 65000, local: RTR.v4, holdTime: 90, channels: { ipv4: {}, ipv6: {} } },
      ],
    }),
  );
  const p = net.spawn(ns, 'bird', [
    '-f',
    '-c',
    join(d, 'bird.conf'),
    '-s',
    join(d, 'bird.ctl'),
    '-P',
    join(d, 'bird.pid'),
  ]);
  await until(() => existsSync(join(d, 'bird.ctl')) && existsSync(join(d, 'bird.pid')), 'BIRD', 10_000);
  const ctl = await BirdCtl.connect(join(d, 'bird.ctl'));
  const pid = Number(readFileSync(join(d, 'bird.pid'), 'utf8').trim());
  return { ctl, pid, stop: () => (ctl.close(), p.kill('SIGTERM')) };
}

/** Seconds from BIRD's session reaching Established until it holds `total` routes. */
async function timeToAll(bird: Bird, total: number): Promise<{ secs: number; established: number }> {
  await until(
    async () => (await bird.ctl.protocolInfo('spk')).includes('Established'),
    'the session at BIRD',
    300_000,
    10,
  );
  const t0 = performance.now();
  await until(async () => (await bird.ctl.routeCount()) >= total, `${total} routes at BIRD`, 600_000, 20);
  return { secs: (performance.now() - t0) / 1000, established: t0 };
}

/** UPDATEs in a capture of the speaker's side (to port 179): [IPv4 NLRI, IPv6 NLRI, End-of-RIB/other]. */
function countUpdates(pcap: string): [number, number, number] {
  const stream = tcpStream(readPcap(pcap), SPK.v4, { dst: 179 });
  const n: [number, number, number] = [0, 0, 0];
  for (let off = 0; off + 19 <= stream.length;) {
    const len = stream.readUInt16BE(off + 16);
    const r = decode(stream.subarray(off, off + len), DEFAULT_CODEC);
    off += len;
    if (!r.ok || r.message.type !== 'update') continue;
    if (r.message.nlri.length > 0) n[0]++;
    else if ((r.message.attributes.mpReach?.nlri.length ?? 0) > 0) n[1]++;
    else n[2]++;
  }
  return n;
}

async function main(): Promise<void> {
  const n4 = arg('v4', 100_000);
  const n6 = arg('v6', 20_000);
  const trials = arg('trials', 20);
  const withFrr = !process.argv.includes('--no-frr');
  const withGobgp = !process.argv.includes('--no-gobgp');
  if (process.getuid?.() !== 0) throw new Error('bench/bgp needs root (network namespaces)');
  for (const tool of ['bird', 'tcpdump', ...(withFrr ? ['vtysh'] : []), ...(withGobgp ? ['gobgpd'] : [])]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`bench/bgp needs ${tool}`);
  }
  if (n4 > 131_072) throw new Error('--v4 at most 131072 (198.18.0.0/15)');
  const total = n4 + n6;
  const net = new Netns(`bbg${process.pid % 1000}`);
  const dir = mkdtempSync(join(tmpdir(), 'herald-bbg-'));
  const procs: ChildProcess[] = [];
  const cleanup = async (): Promise<void> => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await net.teardown();
    rmSync(dir, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => void cleanup().finally(() => process.exit(130)));
  try {
    const spk = net.add('s');
    const rtr = net.add('r');
    const { bIf } = net.link(spk, [`${SPK.v4}/24`, `${SPK.v6}/64`], rtr, [`${RTR.v4}/24`, `${RTR.v6}/64`]);
    const lines: string[] = [];

    // Herald: the session engine (test/support/bgp-driver.ts) in the speaker namespace.
    const bird = await startBird(net, rtr, dir, 'herald');
    const pcap = join(dir, 'herald.pcap');
    const dump = await startTcpdump(rtr, ['-i', bIf, '-U', '-B', '65536', '-s', '0', '-w', pcap, 'tcp port 179']);
    procs.push(dump.proc);
    const driverJs = join(dir, 'bgp-driver.mjs');
    await build({
      entryPoints: [join(REPO_ROOT, 'test', 'support', 'bgp-driver.ts')],
      outfile: driverJs,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
    });
    const driver = net.spawn(spk, process.execPath, [driverJs], { cwd: REPO_ROOT });
    const events: Record<string, unknown>[] = [];
    createInterface({ input: driver.stdout! }).on('line', (l) => events.push(JSON.parse(l) as Record<string, unknown>));
    driver.stderr!.on('data', (d: Buffer) => process.stderr.write(`[herald] ${d.toString()}`));
    driver.stdin!.write(
      `${JSON.stringify({ cmd: 'start', peerAddress: RTR.v4, myAsn: 65000, peerAsn: 65001, routerId: SPK.v4, holdTime: 90, families: ['IPv4', 'IPv6'], nextHopV6: SPK.v6 })}\n`,
    );
    driver.stdin!.write(
      `${JSON.stringify({
        cmd: 'range',
        ranges: [
          { base: v4(0).split('/')[0], count: n4 },
          { base: v6(0).split('/')[0], count: n6 },
        ],
      })}\n`,
    );
    const herald = await timeToAll(bird, total);
    // The capture is complete once it holds both End-of-RIB markers (a hole, if tcpdump lost a
    // segment, never fills: the deadline then names it).
    let counted: [number, number, number] = [0, 0, 0];
    let hole = '';
    await until(
      () => {
        try {
          counted = countUpdates(pcap);
          hole = '';
        } catch (e) {
          hole = (e as Error).message;
        }
        return counted[2] >= 2;
      },
      'both End-of-RIBs in the capture',
      30_000,
      100,
    ).catch((e: Error) => {
      throw new Error(`${e.message}${hole ? `: ${hole}` : ''}; tcpdump: ${dump.stderr().trim()}`);
    });
    await dump.stop();
    const [u4, u6, uOther] = counted;
    const bound4 = Math.ceil(n4 / 800) + 1;
    const rssHerald = rssBytes(driver.pid!);
    const birdRss = rssBytes(bird.pid);

    // Withdraw one prefix at a time: gone from BIRD's table.
    const withdrawMs: number[] = [];
    for (let t = 0; t < trials; t++) {
      const prefix = v4(t * 997);
      const t0 = performance.now();
      driver.stdin!.write(`${JSON.stringify({ cmd: 'remove', prefix })}\n`);
      await until(async () => !(await bird.ctl.hasRoute(prefix)), `the withdrawal of ${prefix}`, 30_000, 2);
      withdrawMs.push(performance.now() - t0);
    }
    driver.kill('SIGTERM');
    bird.stop();

    lines.push(
      `herald bench bgp: ${n4} IPv4 /32 + ${n6} IPv6 /128 over one eBGP session (IPv4 transport) to BIRD (node ${process.version})`,
    );
    lines.push(
      `  Herald:   all ${total} at BIRD ${herald.secs.toFixed(2)} s after Established (${Math.round(total / herald.secs)} prefixes/s)`,
    );
    lines.push(
      `    UPDATEs on the wire: ${u4} with IPv4 NLRI (target <= ceil(${n4}/800)+1 = ${bound4}: ${u4 <= bound4 ? 'meets' : 'MISSES'}), ${u6} with IPv6 MP_REACH, ${uOther} End-of-RIB/other`,
    );
    lines.push(
      `    withdraw one prefix -> gone at BIRD (${trials} trials): p50 ${pct(withdrawMs, 50).toFixed(1)} ms, p99 ${pct(withdrawMs, 99).toFixed(1)} ms (target p50 < 100 ms: ${pct(withdrawMs, 50) < 100 ? 'meets' : 'MISSES'})`,
    );
    lines.push(
      `    RSS of the process running the session with ${total} prefixes: ${(rssHerald / 1048576).toFixed(1)} MB (the session engine and its driver, bundled, plain node); BIRD holding them: ${(birdRss / 1048576).toFixed(1)} MB`,
    );

    if (withFrr) {
      // FRR bgpd: the same prefixes as network statements, to a fresh BIRD.
      const bird2 = await startBird(net, rtr, dir, 'frr');
      const frrDir = join(dir, 'frrd');
      spawnSync('mkdir', ['-p', frrDir]);
      const nets4: string[] = [];
      for (let i = 0; i < n4; i++) nets4.push(`  network ${v4(i)}`);
      const nets6: string[] = [];
      for (let i = 0; i < n6; i++) nets6.push(`  network ${v6(i)}`);
      writeFileSync(
        join(frrDir, 'frr.conf'),
        `hostname s
router bgp 65000
 bgp router-id ${SPK.v4}
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 no bgp network import-check
 neighbor ${RTR.v4} remote-as 65001
 neighbor ${RTR.v4} timers 30 90
 address-family ipv4 unicast
${nets4.join('\n')}
  neighbor ${RTR.v4} activate
 exit-address-family
 address-family ipv6 unicast
${nets6.join('\n')}
  neighbor ${RTR.v4} activate
  neighbor ${RTR.v4} route-map nh6 out
 exit-address-family
route-map nh6 permit 10
 set ipv6 next-hop global ${SPK.v6}
`,
      );
      const tStart = performance.now();
      const bgpd = net.spawn(spk, '/usr/lib/frr/bgpd', [
        '-Z',
        '-S',
        '-f',
        join(frrDir, 'frr.conf'),
        '-i',
        join(frrDir, 'bgpd.pid'),
        '--vty_socket',
        frrDir,
        '-P',
        '0',
        '-l',
        SPK.v4,
        '-n',
      ]);
      const frr = await timeToAll(bird2, total);
      const startToEstablished = (frr.established - tStart) / 1000;
      const frrRss = rssBytes(Number(readFileSync(join(frrDir, 'bgpd.pid'), 'utf8').trim()));
      bgpd.kill('SIGTERM');
      bird2.stop();
      lines.push(
        `  FRR bgpd: all ${total} at BIRD ${frr.secs.toFixed(2)} s after Established (${Math.round(total / frr.secs)} prefixes/s; it loaded its configuration and reached Established ${startToEstablished.toFixed(1)} s after start)`,
      );
      lines.push(`    bgpd RSS with them: ${(frrRss / 1048576).toFixed(1)} MB`);
      lines.push(
        `  ratio Herald/FRR time to all routes: ${(herald.secs / frr.secs).toFixed(2)}x (target <= 1: ${herald.secs <= frr.secs ? 'meets' : 'MISSES'})`,
      );
    }
    if (withGobgp) {
      // gobgpd: its global RIB loaded over gRPC with the neighbor down, then the neighbor enabled.
      const bird3 = await startBird(net, rtr, dir, 'gobgp');
      const gDir = join(dir, 'gobgpd');
      spawnSync('mkdir', ['-p', gDir]);
      writeFileSync(
        join(gDir, 'gobgpd.toml'),
        `[global.config]
  as = 65000
  router-id = "${SPK.v4}"
  local-address-list = ["${SPK.v4}"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${RTR.v4}"
    peer-as = 65001
    admin-down = true
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 90
    keepalive-interval = 30
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
`,
      );
      const sock = join(gDir, 'api.sock');
      const gobgpd = net.spawn(spk, 'gobgpd', [
        '-f',
        join(gDir, 'gobgpd.toml'),
        '-p',
        '--pprof-disable',
        '--api-hosts',
        `unix://${sock}`,
      ]);
      procs.push(gobgpd);
      await until(() => existsSync(sock), 'the GoBGP API socket', 10_000);
      const api = new GobgpApi(`unix://${sock}`);
      const nh4 = Buffer.from(SPK.v4.split('.').map(Number));
      const nh6 = Buffer.from('20010db8000000000000000000000001', 'hex');
      const addr = (base: bigint, i: number, bytes: number): Buffer =>
        Buffer.from((base + BigInt(i)).toString(16).padStart(bytes * 2, '0'), 'hex');
      const tLoad = performance.now();
      await api.addPaths(n4, (i) => ({ family: 'IPv4', addr: addr(V4_BASE, i, 4), len: 32, nextHop: nh4 }));
      await api.addPaths(n6, (i) => ({ family: 'IPv6', addr: addr(V6_BASE, i, 16), len: 128, nextHop: nh6 }));
      const [g4, g6] = [await api.destinations('IPv4'), await api.destinations('IPv6')];
      if (g4 !== n4 || g6 !== n6)
        throw new Error(`GoBGP's RIB holds ${g4} IPv4 and ${g6} IPv6 destinations, not ${n4} and ${n6}`);
      const loadSecs = (performance.now() - tLoad) / 1000;
      await api.enablePeer(RTR.v4);
      const gobgp = await timeToAll(bird3, total);
      const gobgpRss = rssBytes(gobgpd.pid!);
      api.close();
      gobgpd.kill('SIGTERM');
      bird3.stop();
      lines.push(
        `  GoBGP:    all ${total} at BIRD ${gobgp.secs.toFixed(2)} s after Established (${Math.round(total / gobgp.secs)} prefixes/s; its RIB was loaded over gRPC in ${loadSecs.toFixed(1)} s before the neighbor was enabled)`,
      );
      lines.push(`    gobgpd RSS with them: ${(gobgpRss / 1048576).toFixed(1)} MB`);
      lines.push(
        `  ratio Herald/GoBGP time to all routes: ${(herald.secs / gobgp.secs).toFixed(2)}x (target < 1: ${herald.secs < gobgp.secs ? 'meets' : 'MISSES'})`,
      );
    }
    lines.push('  (2-core machine shared with other work: figures are indicative only)');
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await cleanup();
  }
}

await main();
