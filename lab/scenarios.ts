/**
 * `herald lab --scenario`: things that go wrong (or change) in a running cluster, timed from
 * the client's point of view (a fresh ARP/NDP query and a real curl) and from the router's
 * (the next hops in its kernel table).
 *   failover      kill (SIGKILL) the speaker that owns web-l2's address: time until the
 *                 client's fresh ARP query is answered by another node and curl answers;
 *   bgp-withdraw  stop (SIGTERM) one node's speaker: time until the router no longer routes
 *                 web-bgp's address through that node, while traffic keeps flowing;
 *   local         run web-bgp's only Pod on the last node and switch it to
 *                 externalTrafficPolicy Local: time until the router uses that node alone.
 */
import type { ChildProcess } from 'node:child_process';
import type { LabView } from './cluster.js';
import { SERVICES, type KubeClient, type ResourceType } from '../src/k8s/index.js';
import { curlFrom, neighbourMac } from './observe.js';
import { routerNextHops } from './routers.js';

export type ScenarioName = 'failover' | 'bgp-withdraw' | 'local';
export const SCENARIOS: readonly ScenarioName[] = ['failover', 'bgp-withdraw', 'local'];

export interface ScenarioResult {
  readonly name: ScenarioName;
  readonly ok: boolean;
  readonly message: string;
  readonly ip?: string;
  readonly from?: string;
  readonly to?: string;
  readonly ms?: number;
}

export interface ScenarioContext {
  /** The client namespace. */
  readonly client: string;
  readonly admin: KubeClient;
  readonly view: LabView;
  readonly procs: readonly { readonly name: string; readonly proc: ChildProcess }[];
  readonly say: (line: string) => void;
  /** The router namespace. */
  readonly routerNs: string;
  readonly nodes: readonly string[];
  readonly nodeIp: (node: string) => string;
  /** Node by the MAC of its LAN interface. */
  readonly macs: ReadonlyMap<string, string>;
}

const DEPLOYMENTS: ResourceType = {
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  kind: 'Deployment',
  namespaced: true,
};
const LIMIT_MS = 60_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function ipOf(ctx: ScenarioContext, name: string): Promise<string | undefined> {
  const s = await ctx.admin.tryGet(SERVICES, 'default', name);
  return ((s?.['status'] as { loadBalancer?: { ingress?: { ip: string }[] } } | undefined)?.loadBalancer?.ingress ??
    [])[0]?.ip;
}

/** The node a Pod (answering curl with its name) runs on. */
function nodeOfPod(ctx: ScenarioContext, pod: string | undefined): string | undefined {
  if (!pod) return undefined;
  const p = ctx.view.get('pods', 'default', pod);
  return (p?.['spec'] as { nodeName?: string } | undefined)?.nodeName;
}

/** Polls `check` until it gives a result or the limit passes. */
async function timed<T>(
  check: () => T | undefined | Promise<T | undefined>,
): Promise<{ value: T; ms: number } | undefined> {
  const t = Date.now();
  while (Date.now() - t < LIMIT_MS) {
    const v = await check();
    if (v !== undefined) return { value: v, ms: Date.now() - t };
    await sleep(50);
  }
  return undefined;
}

export async function runScenario(name: ScenarioName, ctx: ScenarioContext): Promise<ScenarioResult> {
  const fail = (message: string, extra: Partial<ScenarioResult> = {}): ScenarioResult => {
    ctx.say(`scenario ${name}: ${message}`);
    return { name, ok: false, message, ...extra };
  };
  if (name === 'failover') {
    const ip = await ipOf(ctx, 'web-l2');
    const mac = ip ? await neighbourMac(ctx.client, ip) : undefined;
    const before = mac ? ctx.macs.get(mac) : undefined;
    if (!ip || !before) return fail('web-l2 has no address answered by a node');
    ctx.say(`scenario failover: ${ip} is answered by ${before}; killing its speaker`);
    ctx.procs.find((p) => p.name === `${before} speaker`)?.proc.kill('SIGKILL');
    const moved = await timed(async () => {
      const now = ctx.macs.get((await neighbourMac(ctx.client, ip)) ?? '');
      return now && now !== before && (await curlFrom(ctx.client, ip, false)).ok ? now : undefined;
    });
    if (!moved) return fail(`no new owner within ${LIMIT_MS / 1000} s`, { ip, from: before });
    const message = `${moved.value} answers ARP and traffic flows after ${moved.ms} ms`;
    ctx.say(`scenario failover: ${message}`);
    return { name, ok: true, message, ip, from: before, to: moved.value, ms: moved.ms };
  }
  const ip = await ipOf(ctx, 'web-bgp');
  if (!ip) return fail('web-bgp has no address');
  if (ctx.nodes.length < 2) return fail('needs at least 2 nodes');
  const last = ctx.nodes[ctx.nodes.length - 1]!;
  if (name === 'bgp-withdraw') {
    ctx.say(
      `scenario bgp-withdraw: ${ip} is routed via ${routerNextHops(ctx.routerNs, ip).join(', ')}; stopping ${last}'s speaker`,
    );
    ctx.procs.find((p) => p.name === `${last} speaker`)?.proc.kill('SIGTERM');
    const gone = await timed(() => {
      const via = routerNextHops(ctx.routerNs, ip);
      return via.length > 0 && !via.includes(ctx.nodeIp(last)) ? via : undefined;
    });
    if (!gone) return fail(`the router still routes ${ip} via ${last} after ${LIMIT_MS / 1000} s`, { ip, from: last });
    const answered = await timed(async () => {
      const c = await curlFrom(ctx.client, ip, false);
      return c.ok ? gone.value.map((a) => ctx.nodes.find((n) => ctx.nodeIp(n) === a) ?? a).join(',') : undefined;
    });
    if (!answered) return fail(`${ip} does not answer after the withdrawal`, { ip, from: last });
    const message = `the router dropped ${last}'s route after ${gone.ms} ms; traffic flows through ${answered.value}`;
    ctx.say(`scenario bgp-withdraw: ${message}`);
    return { name, ok: true, message, ip, from: last, to: answered.value, ms: gone.ms };
  }
  // local: one Pod, on the last node; only that node may announce.
  ctx.say(
    `scenario local: ${ip} is routed via ${routerNextHops(ctx.routerNs, ip).join(', ')}; one Pod on ${last}, externalTrafficPolicy Local`,
  );
  await ctx.admin.patch(DEPLOYMENTS, 'default', 'web-bgp', {
    spec: { replicas: 1, template: { spec: { nodeSelector: { 'kubernetes.io/hostname': last } } } },
  });
  await ctx.admin.patch(SERVICES, 'default', 'web-bgp', { spec: { externalTrafficPolicy: 'Local' } });
  const only = await timed(async () => {
    const via = routerNextHops(ctx.routerNs, ip);
    return via.length === 1 &&
      via[0] === ctx.nodeIp(last) &&
      nodeOfPod(ctx, (await curlFrom(ctx.client, ip, false)).pod) === last
      ? via
      : undefined;
  });
  if (!only)
    return fail(
      `the router does not route ${ip} via ${last} alone after ${LIMIT_MS / 1000} s (via ${routerNextHops(ctx.routerNs, ip).join(', ')})`,
      { ip, to: last },
    );
  const message = `the router routes ${ip} via ${last} alone after ${only.ms} ms; its Pod answers`;
  ctx.say(`scenario local: ${message}`);
  return { name, ok: true, message, ip, to: last, ms: only.ms };
}
