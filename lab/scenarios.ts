/**
 * `herald lab --scenario`: things that go wrong (or change) in a running cluster, timed from
 * the client's point of view with real curl and from the router's with birdc.
 *   failover      kill (SIGKILL) the speaker that owns web-l2's address: time until traffic
 *                 flows through another node;
 *   bgp-withdraw  stop (SIGTERM) one node's speaker: time until BIRD no longer routes
 *                 web-bgp's address through that node, while traffic keeps flowing;
 *   local         switch web-bgp to externalTrafficPolicy Local with its only endpoint on
 *                 the last node: time until BIRD routes it through that node alone.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { ENDPOINT_SLICES, SERVICES, heraldResource, type KubeClient } from '../src/k8s/index.js';

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
  readonly procs: readonly { readonly name: string; readonly proc: ChildProcess }[];
  readonly say: (line: string) => void;
  /** BIRD's control socket. */
  readonly birdctl: string;
  readonly nodes: readonly string[];
  readonly nodeIp: (node: string) => string;
}

const DEMO = ['web-l2', 'web-l2-v6', 'web-bgp'];
const LIMIT_MS = 60_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function curl(ctx: ScenarioContext, ip: string): string | undefined {
  const r = spawnSync('ip', ['netns', 'exec', ctx.client, 'curl', '-s', '-m', '1', `http://${ip.includes(':') ? `[${ip}]` : ip}/`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

async function ipOf(ctx: ScenarioContext, name: string): Promise<string | undefined> {
  const s = await ctx.admin.tryGet(SERVICES, 'default', name);
  return ((s?.['status'] as { loadBalancer?: { ingress?: { ip: string }[] } } | undefined)?.loadBalancer?.ingress ?? [])[0]?.ip;
}

/** The next hops BIRD holds for `ip`/32, as node addresses. */
function birdVia(ctx: ScenarioContext, ip: string): string[] {
  const r = spawnSync('birdc', ['-s', ctx.birdctl, 'show', 'route', `${ip}/32`], { encoding: 'utf8' });
  return [...r.stdout.matchAll(/via (\S+)/g)].map((m) => m[1]!).sort();
}

/** Nodes whose speaker reports announcing the Service (ServiceL2Status / ServiceBGPStatus). */
async function announcers(ctx: ScenarioContext, name: string): Promise<string[]> {
  const out: string[] = [];
  for (const kind of ['ServiceL2Status', 'ServiceBGPStatus']) {
    for (const o of (await ctx.admin.list(heraldResource(kind), { namespace: 'herald-system' })).items) {
      const st = (o['status'] as { serviceName?: string; node?: string } | undefined) ?? {};
      if (st.serviceName === name && st.node) out.push(st.node);
    }
  }
  return out;
}

/**
 * Waits until every demo Service answers the client through a node that announces it; their
 * addresses and answering nodes.
 */
async function whenServing(ctx: ScenarioContext): Promise<Map<string, { ip: string; node: string }> | undefined> {
  for (let i = 0; i < 240; i++) {
    const out = new Map<string, { ip: string; node: string }>();
    for (const name of DEMO) {
      const ip = await ipOf(ctx, name);
      const node = ip ? curl(ctx, ip) : undefined;
      if (ip && node && (await announcers(ctx, name)).includes(node)) out.set(name, { ip, node });
    }
    if (out.size === DEMO.length) return out;
    await sleep(500);
  }
  return undefined;
}

/** Polls `check` until it gives a result or the limit passes. */
async function timed<T>(check: () => T | undefined | Promise<T | undefined>): Promise<{ value: T; ms: number } | undefined> {
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
  const serving = await whenServing(ctx);
  if (!serving) return fail('the demo Services never all became reachable');
  if (name === 'failover') {
    const { ip, node: before } = serving.get('web-l2')!;
    ctx.say(`scenario failover: ${ip} is served by ${before}; killing its speaker`);
    ctx.procs.find((p) => p.name === `${before} speaker`)?.proc.kill('SIGKILL');
    const moved = await timed(() => {
      const now = curl(ctx, ip);
      return now && now !== before ? now : undefined;
    });
    if (!moved) return fail(`no new owner within ${LIMIT_MS / 1000} s`, { ip, from: before });
    const message = `traffic flows through ${moved.value} after ${moved.ms} ms`;
    ctx.say(`scenario failover: ${message}`);
    return { name, ok: true, message, ip, from: before, to: moved.value, ms: moved.ms };
  }
  const { ip } = serving.get('web-bgp')!;
  if (ctx.nodes.length < 2) return fail('needs at least 2 nodes');
  const last = ctx.nodes[ctx.nodes.length - 1]!;
  if (name === 'bgp-withdraw') {
    ctx.say(`scenario bgp-withdraw: ${ip} is routed via ${birdVia(ctx, ip).join(', ')}; stopping ${last}'s speaker`);
    ctx.procs.find((p) => p.name === `${last} speaker`)?.proc.kill('SIGTERM');
    const gone = await timed(() => {
      const via = birdVia(ctx, ip);
      return via.length > 0 && !via.includes(ctx.nodeIp(last)) ? via : undefined;
    });
    if (!gone) return fail(`BIRD still routes ${ip} via ${last} after ${LIMIT_MS / 1000} s`, { ip, from: last });
    // BIRD's table changes first; the router's kernel follows a moment later, so traffic is
    // polled as well rather than tried once.
    const answered = await timed(() => {
      const now = curl(ctx, ip);
      return now && now !== last ? now : undefined;
    });
    if (!answered) return fail(`${ip} does not answer from another node after the withdrawal`, { ip, from: last });
    const answer = answered.value;
    const message = `BIRD withdrew ${last}'s route after ${gone.ms} ms; traffic flows through ${answer}`;
    ctx.say(`scenario bgp-withdraw: ${message}`);
    return { name, ok: true, message, ip, from: last, to: answer, ms: gone.ms };
  }
  // local: only the node with the endpoint announces.
  ctx.say(`scenario local: ${ip} is routed via ${birdVia(ctx, ip).join(', ')}; externalTrafficPolicy Local with the endpoint on ${last} only`);
  await ctx.admin.patch(ENDPOINT_SLICES, 'default', 'web-bgp-pods', { endpoints: [{ addresses: [ctx.nodeIp(last)], nodeName: last, conditions: { ready: true } }] });
  await ctx.admin.patch(SERVICES, 'default', 'web-bgp', { spec: { externalTrafficPolicy: 'Local' } });
  const only = await timed(() => {
    const via = birdVia(ctx, ip);
    return via.length === 1 && via[0] === ctx.nodeIp(last) && curl(ctx, ip) === last ? via : undefined;
  });
  if (!only) return fail(`BIRD does not route ${ip} via ${last} alone after ${LIMIT_MS / 1000} s (via ${birdVia(ctx, ip).join(', ')})`, { ip, to: last });
  const message = `BIRD routes ${ip} via ${last} alone after ${only.ms} ms; traffic flows through ${last}`;
  ctx.say(`scenario local: ${message}`);
  return { name, ok: true, message, ip, to: last, ms: only.ms };
}
