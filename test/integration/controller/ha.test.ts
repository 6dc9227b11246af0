/**
 * `herald controller --leader-elect` as real processes against the embedded API server:
 * one leads, the leader is killed (SIGKILL: no release), the standby takes over within the
 * lease duration and serves from state it rebuilds from the cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { LEASES, NAMESPACES, SERVICES, heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { eventually } from '../../support/apiserver.js';
import { type KubeCluster, kubeLane, startKubeCluster } from '../../support/kube-cluster.js';
import { REPO_ROOT } from '../../support/crds.js';

const NS = 'herald-system';

describe(`controller HA with leader election (processes, ${kubeLane()} API server)`, function () {
  this.timeout(60_000);
  let c: KubeCluster;
  let dir: string;
  const procs = new Map<string, ChildProcess>();
  const logs = new Map<string, string>();

  const spawnController = (name: string, kubeconfig: string): void => {
    const p = spawn(
      process.execPath,
      [
        join(REPO_ROOT, 'bin', 'herald.js'),
        'controller',
        '--kubeconfig',
        kubeconfig,
        '--leader-elect',
        '--lease-duration',
        '2',
        '--renew-deadline',
        '1.5',
        '--retry-period',
        '0.25',
        '--metrics-port',
        '0',
        '--metrics-host',
        '127.0.0.1',
        '--namespace',
        NS,
        '--log-level',
        'debug',
      ],
      {
        env: { ...process.env, POD_NAME: name },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    logs.set(name, '');
    p.stdout!.on('data', (d: Buffer) => logs.set(name, logs.get(name)! + d.toString()));
    p.stderr!.on('data', (d: Buffer) => logs.set(name, logs.get(name)! + d.toString()));
    procs.set(name, p);
  };
  const holder = async (): Promise<string | undefined> =>
    ((await c.client.tryGet(LEASES, NS, 'herald-controller'))?.['spec'] as { holderIdentity?: string } | undefined)
      ?.holderIdentity || undefined;
  const ipOf = async (name: string): Promise<string | undefined> =>
    ((await c.client.get(SERVICES, 'default', name))['status'] as { loadBalancer?: { ingress?: { ip: string }[] } })
      .loadBalancer?.ingress?.[0]?.ip;

  before(async () => {
    c = await startKubeCluster({ herald: true });
    dir = mkdtempSync(join(tmpdir(), 'herald-ha-'));
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
    await c.client.create(heraldResource('IPAddressPool'), {
      metadata: { name: 'main', namespace: NS },
      spec: { addresses: ['192.0.2.0/29'] },
    } as KubeObject);
    const kc = join(dir, 'kubeconfig');
    c.writeKubeconfig(kc);
    spawnController('a', kc);
    spawnController('b', kc);
  });
  after(async () => {
    for (const p of procs.values()) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await c.stop();
  });

  it('one leads and assigns; killed, the other leads within the lease duration and keeps every address', async () => {
    const leader = await eventually(holder, 'a leader', 20_000);
    await c.client.create(SERVICES, {
      metadata: { name: 'one', namespace: 'default' },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    });
    expect(await eventually(() => ipOf('one'), 'one to get an address', 20_000)).to.equal('192.0.2.0');
    const standby = leader === 'a' ? 'b' : 'a';
    procs.get(leader)!.kill('SIGKILL');
    await eventually(
      async () => ((await holder()) === standby ? true : undefined),
      `${standby} to take the lease`,
      20_000,
    );
    await c.client.create(SERVICES, {
      metadata: { name: 'two', namespace: 'default' },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    });
    expect(await eventually(() => ipOf('two'), 'two to get an address from the new leader', 20_000)).to.equal(
      '192.0.2.1',
    );
    expect(await ipOf('one')).to.equal('192.0.2.0');
    expect(logs.get(standby)).to.include('became leader');
  });
});
