/**
 * A new user's path through `herald lab`, with kubectl only: create a namespace and a
 * Deployment, `kubectl expose` it and `kubectl create service loadbalancer` for it; both
 * Services get an address, are announced, and a curl from the client answers with a Pod's
 * name. A Service whose selector matches nothing says why it is not announced. Meanwhile a
 * second lab runs beside the first with its own names and API port, and `lab down` of the
 * first leaves the second alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { LabRow } from '../../../lab/lab.js';
import { labPrefix } from '../../../lab/names.js';
import { Netns } from '../../../lab/netns.js';
import { eventually } from '../../support/apiserver.js';
import { REPO_ROOT } from '../../support/crds.js';
import { canUseNetns } from '../../support/netns.js';
import { requireTool } from '../../support/tools.js';
import { herald, kubectl, processesWith, type HeraldRun } from './support.js';

/** The newest complete JSON table a `--json` lab printed. */
function lastTable(run: HeraldRun): { services: LabRow[] } | undefined {
  const lines = run
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'));
  for (const l of lines.reverse()) {
    try {
      return JSON.parse(l) as { services: LabRow[] };
    } catch {
      // a line still being written
    }
  }
  return undefined;
}

describe('herald lab: a new user with kubectl, and two labs side by side', function () {
  this.timeout(300_000);
  const states: string[] = [];
  const runs: HeraldRun[] = [];

  before(function () {
    for (const tool of ['bird', 'curl', 'arping', 'ndisc6', 'kubectl']) requireTool(this, tool);
    if (!canUseNetns()) {
      if (process.env['CI'] === 'true') throw new Error('the lab needs root');
      this.skip();
    }
  });
  after(async () => {
    for (const r of runs) r.kill('SIGTERM');
    await Promise.all(runs.map((r) => r.done));
    for (const s of states) {
      spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'herald.js'), 'lab', 'down', '--state-dir', s]);
      rmSync(s, { recursive: true, force: true });
    }
  });

  it("kubectl create namespace / deployment / expose / create service loadbalancer: addresses announced, curl answers with a Pod name, a selector matching nothing says why; a second lab is left alone by the first one's lab down", async () => {
    const a = mkdtempSync(join(tmpdir(), 'herald-lab-a-'));
    const b = mkdtempSync(join(tmpdir(), 'herald-lab-b-'));
    states.push(a, b);
    const labA = herald(['lab', '--json', '--nodes', '2', '--port', '0', '--state-dir', a]);
    const labB = herald(['lab', '--json', '--nodes', '1', '--port', '0', '--state-dir', b, '--name', 'second']);
    runs.push(labA, labB);
    await eventually(() => lastTable(labA) && lastTable(labB), 'both labs to print a table', 150_000, 500);
    // Distinct names and API ports.
    expect(labPrefix(a)).to.not.equal('hlsecond');
    expect(Netns.existing(labPrefix(a)).length).to.be.greaterThan(3);
    expect(Netns.existing('hlsecond').length).to.be.greaterThan(3);
    const port = (dir: string): string =>
      /server: https:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(join(dir, 'kubeconfig'), 'utf8'))![1]!;
    expect(port(a)).to.not.equal(port(b));

    const kc = join(a, 'kubeconfig');
    const ok = async (...args: string[]): Promise<string> => {
      const r = await kubectl(kc, ...args);
      expect(r.code, `kubectl ${args.join(' ')}: ${r.err}`).to.equal(0);
      return r.out;
    };
    await ok('create', 'namespace', 'shop');
    await ok('create', 'deployment', 'web', '--image=shop/web', '--replicas=2', '-n', 'shop');
    await ok(
      'expose',
      'deployment',
      'web',
      '--name=web-exposed',
      '--port=80',
      '--target-port=8080',
      '--type=LoadBalancer',
      '-n',
      'shop',
    );
    await ok('create', 'service', 'loadbalancer', 'web', '--tcp=80:8080', '-n', 'shop');
    await ok('create', 'service', 'loadbalancer', 'nobody', '--tcp=80:8080', '-n', 'shop');

    const rows = await eventually(
      () => {
        const t = lastTable(labA);
        const mine = t?.services.filter((r) => r.service.startsWith('shop/')) ?? [];
        const good = (name: string): boolean =>
          mine.some((r) => r.service === `shop/${name}` && r.curl.ok && r.neighbour?.ok === true);
        const nobody = mine.find((r) => r.service === 'shop/nobody');
        return good('web') && good('web-exposed') && nobody?.reason !== undefined && nobody.ip !== '<pending>'
          ? mine
          : undefined;
      },
      'the shop Services to be served (and nobody to say why not)',
      120_000,
      500,
    );
    for (const name of ['web', 'web-exposed']) {
      const r = rows.find((x) => x.service === `shop/${name}`)!;
      expect(r.ip, name).to.match(/^192\.0\.2\.(6[4-9]|7\d)$/);
      expect(r.mode).to.equal('L2');
      expect(r.curl.pod, name).to.match(/^web-[0-9a-fx]{10}-[0-9a-f]{5}$/);
      expect(r.neighbour!.node).to.equal(r.announcedBy[0]);
    }
    const nobody = rows.find((r) => r.service === 'shop/nobody')!;
    expect(nobody.curl.ok).to.equal(false);
    expect(nobody.reason).to.include('noHealthyEndpoints');
    // kubectl sees what the lab runs.
    expect(await ok('get', 'pods', '-n', 'shop', '-o', 'wide')).to.match(
      /web-\S+\s+1\/1\s+Running\s+0\s+\S+\s+198\.51\.100\.\d+\s+node-[ab]/,
    );
    expect(await ok('get', 'deployment', 'web', '-n', 'shop')).to.match(/web\s+2\/2\s+2\s+2/);
    expect(await ok('get', 'endpointslices', '-n', 'shop')).to.match(
      /web-\S+\s+IPv4\s+8080\s+198\.51\.100\.\d+,198\.51\.100\.\d+/,
    );

    // The second lab is untouched by the first one's lab down.
    const down = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'herald.js'), 'lab', 'down', '--state-dir', a], {
      encoding: 'utf8',
    });
    expect(down.status, down.stderr).to.equal(0);
    expect(Netns.existing(labPrefix(a))).to.deep.equal([]);
    expect(Netns.existing('hlsecond').length).to.be.greaterThan(3);
    const before = labB.stdout().length;
    await eventually(
      () => {
        const t = labB
          .stdout()
          .slice(before)
          .split('\n')
          .find((l) => l.startsWith('{') && l.includes('"allReachable":true'));
        return t !== undefined || undefined;
      },
      'the second lab to keep serving',
      60_000,
      500,
    );
    expect(processesWith(b).length).to.be.greaterThan(2);
  });
});
