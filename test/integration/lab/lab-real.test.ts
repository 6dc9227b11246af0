/**
 * `herald lab --kubernetes real` end to end, on etcd + kube-apiserver + kube-controller-manager
 * from scripts/kube-up.sh (registered on the real lane only, HERALD_KUBE=real: scripts/test.sh
 * builds the binaries first; this test never builds them). The demo Deployments' Pods come
 * from the real ReplicaSet controller, are bound by the lab and run by its node agents, and
 * their endpoints come from the real EndpointSlice controller; every demo Service answers a
 * real curl from the client (L2 v4, L2 v6, BGP) and the owner's MAC answers a fresh ARP/NDP
 * query. Then, as a user would: `kubectl create deployment` and `kubectl expose --type
 * LoadBalancer` against the printed kubeconfig give a Service whose address kubectl shows and
 * the client reaches. Ctrl-C (SIGINT) stops the control plane and leaves nothing behind.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { LabRow } from '../../../lab/lab.js';
import { KUBE_DIR, labPrefix } from '../../../lab/names.js';
import { Netns } from '../../../lab/netns.js';
import { eventually } from '../../support/apiserver.js';
import { REPO_ROOT } from '../../support/crds.js';
import { kubeLane } from '../../support/kube-cluster.js';
import { canUseNetns } from '../../support/netns.js';
import { requireTool } from '../../support/tools.js';
import { herald, kubectl, processesWith, rootLinks } from './support.js';

interface Table {
  readonly allReachable: boolean;
  readonly services: readonly LabRow[];
}

/** The newest complete table the lab printed (one JSON document per line). */
function lastTable(out: string): Table | undefined {
  const lines = out.split('\n').filter((l) => l.startsWith('{'));
  for (const l of lines.reverse()) {
    try {
      return JSON.parse(l) as Table;
    } catch {
      // a line still being written
    }
  }
  return undefined;
}

if (kubeLane() === 'real') {
  describe('herald lab --kubernetes real', function () {
    this.timeout(480_000);
    let state: string;
    let linksBefore: string[];

    before(function () {
      for (const tool of ['bird', 'curl', 'arping', 'ndisc6', 'kubectl']) requireTool(this, tool);
      if (!canUseNetns()) {
        if (process.env['CI'] === 'true') throw new Error('the lab needs root');
        this.skip();
      }
      state = mkdtempSync(join(tmpdir(), 'herald-lab-real-'));
      linksBefore = rootLinks();
    });
    after(() => {
      spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'herald.js'), 'lab', 'down', '--state-dir', state]);
      rmSync(state, { recursive: true, force: true });
    });

    it('demo Services answer (L2 v4, L2 v6, BGP; the owner answers ARP/NDP); kubectl create deployment + expose --type LoadBalancer gets an address that answers; Ctrl-C removes everything', async () => {
      const run = herald(
        ['lab', '--kubernetes', 'real', '--json', '--nodes', '2', '--port', '0', '--state-dir', state],
        { HERALD_KUBE_BUILD: 'never' },
      );
      const exited = (): void => {
        if (run.stderr().includes('herald lab: stopped')) throw new Error(`the lab stopped:\n${run.stderr()}`);
      };
      const demo = await eventually(
        () => (exited(), lastTable(run.stdout())?.allReachable ? lastTable(run.stdout()) : undefined),
        'every demo Service served',
        360_000,
        500,
      );
      expect(run.stderr()).to.match(/API https:\/\/127\.0\.0\.1:\d+ \(kube-apiserver\)/);
      const row = (svc: string): LabRow => demo.services.find((r) => r.service === `default/${svc}`)!;
      expect(row('web-l2')).to.deep.include({ pool: 'lan-v4', mode: 'L2' });
      expect(row('web-l2').ip).to.match(/^192\.0\.2\.\d+$/);
      expect(row('web-l2-v6')).to.deep.include({ pool: 'lan-v6', mode: 'L2' });
      expect(row('web-bgp')).to.deep.include({ pool: 'routed-v4', mode: 'BGP' });
      expect(row('web-bgp').announcedBy).to.deep.equal(['node-a', 'node-b']);
      for (const svc of ['web-l2', 'web-l2-v6', 'web-bgp']) {
        // Pod names from the real ReplicaSet controller: <deployment>-<pod-template-hash>-<5 characters>.
        expect(row(svc).curl.pod, svc).to.match(new RegExp(`^${svc}-[0-9a-z]{8,10}-[0-9a-z]{5}$`));
        expect(row(svc).curl.node, svc).to.match(/^node-[ab]$/);
        expect(row(svc).reason, svc).to.equal(undefined);
      }
      for (const svc of ['web-l2', 'web-l2-v6'])
        expect(row(svc).neighbour, svc).to.deep.include({
          ok: true,
          node: row(svc).announcedBy[0],
          owner: row(svc).announcedBy[0],
        });

      // kubectl against the printed kubeconfig, as on a cluster.
      const kc = join(state, 'kubeconfig');
      const created = await kubectl(
        kc,
        'create',
        'deployment',
        'web-kubectl',
        '--image=herald/demo-pod',
        '--replicas=2',
        '--port=8080',
      );
      expect(created.code, created.err).to.equal(0);
      const exposed = await kubectl(
        kc,
        'expose',
        'deployment',
        'web-kubectl',
        '--type=LoadBalancer',
        '--port=80',
        '--target-port=8080',
      );
      expect(exposed.code, exposed.err).to.equal(0);
      const mine = await eventually(
        () => {
          exited();
          const r = lastTable(run.stdout())?.services.find((x) => x.service === 'default/web-kubectl');
          return r?.curl.ok && r.neighbour?.ok ? r : undefined;
        },
        'the kubectl-exposed Service served',
        180_000,
        500,
      );
      expect(mine).to.deep.include({ pool: 'lan-v4', mode: 'L2' });
      expect(mine.curl.pod).to.match(/^web-kubectl-[0-9a-z]{8,10}-[0-9a-z]{5}$/);
      const svc = await kubectl(kc, 'get', 'svc', 'web-kubectl', '--no-headers');
      expect(svc.code, svc.err).to.equal(0);
      // NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE
      expect(svc.out.trim().split(/\s+/).slice(0, 4)).to.deep.equal([
        'web-kubectl',
        'LoadBalancer',
        svc.out.trim().split(/\s+/)[2],
        mine.ip,
      ]);
      const pods = await kubectl(kc, 'get', 'pods', '-l', 'app=web-kubectl', '--no-headers');
      expect(
        pods.out
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/).slice(1, 3).join(' ')),
      ).to.deep.equal(['1/1 Running', '1/1 Running']);

      // Every Pod runs, also those whose QoS class the server computed from their resources
      // (manifests/' controller Deployment: Burstable; the lab's status write must keep it).
      let notRunning = '';
      await eventually(
        async () => {
          const r = await kubectl(kc, 'get', 'pods', '-A', '--field-selector=status.phase!=Running', '--no-headers');
          notRunning = `${r.code} ${r.out}${r.err}`;
          return r.code === 0 && r.out.trim() === '' ? true : undefined;
        },
        'every Pod Running',
        30_000,
        500,
      ).catch((err: Error) => expect.fail(`${err.message}: ${notRunning}`));
      const burstable = await kubectl(
        kc,
        'get',
        'pods',
        '-n',
        'herald-system',
        '-o',
        'jsonpath={range .items[*]}{.status.qosClass} {.status.phase}{"\\n"}{end}',
      );
      expect(burstable.out.trim().split('\n')).to.include('Burstable Running');

      run.kill('SIGINT');
      const { code, err } = await run.done;
      expect(code, err).to.equal(0);
      expect(err).to.include('herald lab: stopped and cleaned up');
      expect(Netns.existing(labPrefix(state))).to.deep.equal([]);
      expect(processesWith(state)).to.deep.equal([]);
      expect(existsSync(join(state, KUBE_DIR)), 'the control plane directory').to.equal(false);
      expect(rootLinks()).to.deep.equal(linksBefore);
    });
  });
}
