/**
 * One speaker pass at N BGP Services, in process (no API server, no sockets): what a pass
 * costs when a few Services changed, with the per-Service desired state (ServiceInputs,
 * DesiredIndex, BGPNodeStatus shards kept per Service) against the full pass the speaker
 * made before (every Service's inputs, desired state and status shards from scratch),
 * measured in the same run on the same objects; and the heap each keeps between passes.
 *
 * Both end where the speaker hands over: the route list of the peer given to an Adj-RIB-Out
 * and the status shards' text. Addresses: 198.18.0.0/15 (RFC 2544), as bench/speaker.
 *
 *   npm run bench:speaker-pass -- [--n 100000] [--changed 1,100,1000] [--rounds 20]
 */
import { parseConfig } from '../src/config/parse.js';
import { HERALD_NAMESPACE, SERVICE_NAME_LABEL } from '../src/api/names.js';
import { IP_ALLOCATED_FROM_POOL } from '../src/api/annotations.js';
import type { KubeObject } from '../src/k8s/index.js';
import { AdjRibOut } from '../speaker/bgp/rib-out.js';
import { BgpNodeStatusShards, bgpNodeStatusObjects, shardCount } from '../speaker/bgp-node-status.js';
import { announcedPeers, desiredState, type DesiredContext } from '../speaker/desired.js';
import { endpointsByService, servicesToAnnounce } from '../speaker/inputs.js';
import { PerServiceDesired, type ServiceInputs } from '../speaker/service-inputs.js';
import { endpointSliceView, serviceView } from '../speaker/views.js';
import { arg, pct } from './support/common.js';

const NODE = 'node-a';
const PEER = 'bird';

function ipOf(i: number): string {
  return `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}

function service(i: number, ip: string): KubeObject {
  return serviceView({
    metadata: {
      name: `svc-${i}`,
      namespace: 'bench',
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resourceVersion: String(1_000_000 + i),
      annotations: { [IP_ALLOCATED_FROM_POOL]: 'bench' },
    },
    spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' },
    status: { loadBalancer: { ingress: [{ ip }] } },
  });
}

function slice(i: number, ready: boolean): KubeObject {
  return endpointSliceView({
    metadata: { name: `svc-${i}-abcde`, namespace: 'bench', labels: { [SERVICE_NAME_LABEL]: `svc-${i}` } },
    endpoints: [{ nodeName: NODE, conditions: { ready } }],
  });
}

function config(): DesiredContext['config'] {
  const h = (kind: string, name: string, spec: Record<string, unknown>): Record<string, unknown> => ({
    apiVersion: 'herald.dev/v1beta1',
    kind,
    metadata: { name, namespace: HERALD_NAMESPACE },
    spec,
  });
  const parsed = parseConfig([
    h('IPAddressPool', 'bench', { addresses: ['198.18.0.0/15'] }),
    h('BGPAdvertisement', 'bench', {}),
    h('BGPPeer', PEER, { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.254' }),
    { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, labels: {} }, status: { conditions: [] } },
  ]);
  if (parsed.errors.length > 0) throw new Error(parsed.errors.map((e) => e.message).join('; '));
  return parsed.config;
}

const gc = (globalThis as { gc?: () => void }).gc;
function heapMB(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 1e6;
}

const median = (xs: readonly number[]): number => pct(xs, 50);

/** The pass as it was: every Service's inputs, desired state and status from the informers' lists. */
function fullPass(ctx: DesiredContext, services: KubeObject[], slices: KubeObject[], rib: AdjRibOut): number {
  const desired = desiredState({
    ...ctx,
    services: servicesToAnnounce(services as never, undefined),
    endpoints: endpointsByService(slices),
  });
  rib.setDesired(desired.bgp.get(PEER) ?? []);
  const announced = desired.decisions
    .filter((d) => d.bgp.announce)
    .map((d) => ({ service: d.service, peers: d.peers }));
  return bgpNodeStatusObjects(NODE, announced, shardCount(announced.length, 1)).size;
}

/** The pass now: the changed Services' inputs taken from their events, only they recomputed (as the speaker does). */
class IncrementalPass {
  readonly desired = new PerServiceDesired(undefined);
  readonly shards = new BgpNodeStatusShards(NODE);

  get inputs(): ServiceInputs {
    return this.desired.inputs;
  }

  async run(ctx: DesiredContext, rib: AdjRibOut): Promise<number> {
    const { changed } = await this.desired.update(ctx);
    const state = this.desired.index.state();
    rib.setDesired(state.bgp.get(PEER) ?? []);
    for (const s of changed) this.shards.set(s, announcedPeers(this.desired.index.get(s)));
    this.shards.resize(shardCount(this.shards.size, 1));
    return this.shards.objects().size;
  }
}

async function main(): Promise<void> {
  const n = arg('n', 100_000);
  const at = process.argv.indexOf('--changed');
  const changedCounts = (at >= 0 ? process.argv[at + 1]! : '1,100,1000')
    .split(',')
    .map(Number)
    .filter((c) => c > 0 && c <= n);
  const rounds = arg('rounds', 20);
  if (!gc) console.error('bench/speaker-pass: run with node --expose-gc for the heap figures');
  const ctx: DesiredContext = { node: NODE, config: config(), liveSpeakers: new Set([NODE]) };
  const h0 = heapMB();
  const services = Array.from({ length: n }, (_, i) => service(i, ipOf(i)));
  const slices = Array.from({ length: n }, (_, i) => slice(i, true));
  const hViews = heapMB();

  const inc = new IncrementalPass();
  let t = performance.now();
  for (const s of services) inc.inputs.service(s as never, false);
  for (const s of slices) inc.inputs.slice(s, false);
  const incRib = new AdjRibOut();
  const shardsMade = await inc.run(ctx, incRib);
  const firstInc = performance.now() - t;
  const hInc = heapMB();

  const fullRib = new AdjRibOut();
  const fullTimes: number[] = [];
  for (let r = 0; r < Math.max(3, Math.min(rounds, 5)); r++) {
    t = performance.now();
    fullPass(ctx, services, slices, fullRib);
    fullTimes.push(performance.now() - t);
  }
  const hFull = heapMB();

  // A context change that changes no Service's decisions (e.g. a new node label): all recomputed, nothing handed on.
  t = performance.now();
  await inc.run({ ...ctx, liveSpeakers: new Set([NODE, 'node-b']) }, incRib);
  const contextTime = performance.now() - t;
  await inc.run(ctx, incRib);

  const rows: { changed: number; inc: number }[] = [];
  let round = 0;
  for (const changed of changedCounts) {
    const times: number[] = [];
    for (let r = 0; r < rounds; r++, round++) {
      t = performance.now();
      // Endpoints of `changed` Services go not ready and back on alternate rounds: their routes leave and return.
      for (let k = 0; k < changed; k++) {
        const i = (round * 7919 + k * 104729) % n;
        slices[i] = slice(i, round % 2 === 1);
        inc.inputs.slice(slices[i], false);
      }
      await inc.run(ctx, incRib);
      times.push(performance.now() - t);
    }
    rows.push({ changed, inc: median(times) });
  }

  fullPass(ctx, services, slices, fullRib);
  const full = median(fullTimes);
  const f = (x: number): string => x.toFixed(1);
  console.log(`herald bench speaker-pass: ${n} BGP Services, one node, one peer (node ${process.version})`);
  console.log(`  informer caches (Service and EndpointSlice views)   ${f(hViews - h0)} MB heap`);
  console.log(
    `  reference: the full pass (all inputs, desired state, ${shardsMade} status shards)   ${f(full)} ms median of ${fullTimes.length}`,
  );
  console.log(`  per-Service state: first pass (every Service new)   ${f(firstInc)} ms`);
  console.log(`  per-Service state: context changed, no decision changed   ${f(contextTime)} ms`);
  for (const r of rows)
    console.log(
      `  per-Service state: ${String(r.changed).padStart(5)} Service(s) changed   ${f(r.inc).padStart(7)} ms median of ${rounds}   ${(r.inc / full).toFixed(4)}x the full pass`,
    );
  console.log(`  heap kept between passes by the per-Service state   ${f(hInc - hViews)} MB`);
  console.log(`  heap after the full passes (their results collected)   ${f(hFull - hInc)} MB more`);
  console.log(
    `  routes at the end: per-Service ${incRib.desiredCount()}, full pass over the same objects ${fullRib.desiredCount()} (must be equal)`,
  );
  if (incRib.desiredCount() !== fullRib.desiredCount()) process.exitCode = 1;
}

await main();
