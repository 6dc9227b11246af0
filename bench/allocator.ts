/**
 * Allocator throughput: 100k assignments from a /16 IPv4 pool plus a /64 IPv6 pool, with
 * heap use, against a linear-scan allocator (MetalLB's method: walk the pool address by
 * address, checking a map of used addresses) measured in the same process on the same
 * workload size where it finishes in reasonable time.
 *
 * Addresses: 198.18.0.0/16 is from the block RFC 2544 reserves for benchmarks (no /16 exists
 * among the documentation blocks) and 2001:db8::/64 is documentation space. Nothing here
 * sends a packet.
 *
 *   npx tsx bench/allocator.ts [--n 100000] [--linear 10000]
 */
import { Allocator, type ServiceRequest } from '../controller/allocator/index.js';
import { parseConfig } from '../src/config/parse.js';
import { parseIP } from '../src/net/ip.js';
import { arg } from './support/common.js';
import { HERALD_NAMESPACE } from '../src/api/names.js';

function request(i: number): ServiceRequest {
  return {
    key: `bench/svc-${i}`,
    namespace: 'bench',
    labels: {},
    namespaceLabels: {},
    families: i % 2 === 0 ? ['IPv4'] : ['IPv6'],
    familyPolicy: 'SingleStack',
    requestedIPs: [],
    ports: [{ protocol: 'TCP', port: 80 }],
    trafficPolicy: 'Cluster',
    selector: {},
  };
}

/**
 * The reference: MetalLB-style linear scan over every address of the pool, made as cheap
 * as it can be (numbers in a Set, no formatting) so the ratio is not flattered.
 */
class LinearScan {
  private readonly used = new Set<number>();
  constructor(
    private readonly first: number,
    private readonly last: number,
  ) {}
  assign(): number | undefined {
    for (let v = this.first; v <= this.last; v++) {
      if (!this.used.has(v)) {
        this.used.add(v);
        return v;
      }
    }
    return undefined;
  }
}

function main(): void {
  const n = arg('n', 100_000);
  const linearN = arg('linear', 10_000);
  const parsed = parseConfig([
    {
      apiVersion: 'herald.dev/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'v4', namespace: HERALD_NAMESPACE },
      spec: { addresses: ['198.18.0.0/16'] },
    },
    {
      apiVersion: 'herald.dev/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'v6', namespace: HERALD_NAMESPACE },
      spec: { addresses: ['2001:db8::/64'] },
    },
  ]);
  if (parsed.errors.length > 0) throw new Error(parsed.errors.map((e) => e.message).join('; '));
  const pools = [...parsed.config.pools.values()];

  const requests = Array.from({ length: n }, (_, i) => request(i));
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const a = new Allocator();
  a.setPools(pools);
  let t = performance.now();
  let failures = 0;
  for (const r of requests) if (!a.assign(r).ok) failures++;
  const heraldSecs = (performance.now() - t) / 1000;
  global.gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  const stats = a.stats('v4')!;
  const stats6 = a.stats('v6')!;

  // Same-run comparison on the size the linear scan can finish: Herald vs linear, IPv4 /16.
  const small = new Allocator();
  small.setPools(pools);
  const v4Only = Array.from({ length: linearN }, (_, i) => request(i * 2));
  t = performance.now();
  for (const r of v4Only) small.assign(r);
  const heraldSmall = linearN / ((performance.now() - t) / 1000);
  const lin = new LinearScan(Number(parseIP('198.18.0.0').value), Number(parseIP('198.18.255.255').value));
  t = performance.now();
  for (let i = 0; i < linearN; i++) lin.assign();
  const linearRate = linearN / ((performance.now() - t) / 1000);

  const lines = [
    `herald bench allocator (node ${process.version})`,
    `  herald        ${n} assignments (/16 v4 + /64 v6)   ${(n / heraldSecs).toFixed(0).padStart(9)} assignments/s   failures ${failures}`,
    `                heap growth ${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB (${((heapAfter - heapBefore) / n).toFixed(0)} bytes/assignment)${global.gc ? '' : ' (run with --expose-gc for a stable figure)'}`,
    `                pool v4: assigned ${stats.IPv4.assigned} available ${stats.IPv4.available}; pool v6: assigned ${stats6.IPv6.assigned} available ${stats6.IPv6.available}`,
    `  same run, ${linearN} IPv4 assignments:`,
    `    herald      ${heraldSmall.toFixed(0).padStart(9)} assignments/s`,
    `    linear scan ${linearRate.toFixed(0).padStart(9)} assignments/s (reference)`,
    `    ratio       ${(heraldSmall / linearRate).toFixed(1)}x`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
