/**
 * `herald lab` end to end. Non-interactively (`--once --json`): every demo Service (backed by
 * a Deployment, endpoints from the embedded EndpointSlice controller) has an address that a
 * real curl from the client reaches in L2 (v4, v6) and BGP mode, the owner's MAC answers a
 * fresh ARP/NDP query, failover completes, and afterwards nothing is left. A lab killed with
 * SIGKILL is cleaned up by `herald lab down`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { LabResult } from '../../../lab/lab.js';
import { labPrefix } from '../../../lab/names.js';
import { Netns } from '../../../lab/netns.js';
import { eventually } from '../../support/apiserver.js';
import { REPO_ROOT } from '../../support/crds.js';
import { canUseNetns } from '../../support/netns.js';
import { requireTool } from '../../support/tools.js';
import { herald, processesWith, rootLinks } from './support.js';

describe('herald lab', function () {
  this.timeout(240_000);
  let state: string;
  let linksBefore: string[];

  before(function () {
    for (const tool of ['bird', 'curl', 'arping', 'ndisc6']) requireTool(this, tool);
    if (!canUseNetns()) {
      if (process.env['CI'] === 'true') throw new Error('the lab needs root');
      this.skip();
    }
  });
  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'herald-lab-'));
    linksBefore = rootLinks();
  });
  afterEach(() => {
    spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'herald.js'), 'lab', 'down', '--state-dir', state]);
    rmSync(state, { recursive: true, force: true });
  });

  const nothingLeft = (): void => {
    expect(Netns.existing(labPrefix(state))).to.deep.equal([]);
    expect(processesWith(state)).to.deep.equal([]);
    expect(rootLinks()).to.deep.equal(linksBefore);
  };

  it('--once --json: every demo Service answers from its Pods through L2 v4, L2 v6 and BGP, the owner answers ARP/NDP, failover completes, nothing is left', async () => {
    const run = herald([
      'lab',
      '--once',
      '--json',
      '--nodes',
      '2',
      '--port',
      '0',
      '--state-dir',
      state,
      '--scenario',
      'failover',
    ]);
    const { code, out, err } = await run.done;
    expect(code, err).to.equal(0);
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as LabResult & { allReachable: boolean };
    expect(result.allReachable).to.equal(true);
    const row = (svc: string): LabResult['services'][number] =>
      result.services.find((r) => r.service === `default/${svc}`)!;
    expect(row('web-l2')).to.deep.include({ pool: 'lan-v4', mode: 'L2' });
    expect(row('web-l2').ip).to.match(/^192\.0\.2\.\d+$/);
    expect(row('web-l2-v6')).to.deep.include({ pool: 'lan-v6', mode: 'L2' });
    expect(row('web-l2-v6').ip).to.match(/^2001:db8::64:/);
    expect(row('web-bgp')).to.deep.include({ pool: 'routed-v4', mode: 'BGP' });
    expect(row('web-bgp').announcedBy).to.deep.equal(['node-a', 'node-b']);
    for (const svc of ['web-l2', 'web-l2-v6', 'web-bgp']) {
      expect(row(svc).curl.ok, svc).to.equal(true);
      expect(row(svc).curl.pod, svc).to.match(new RegExp(`^${svc}-[0-9a-fx]{10}-[0-9a-f]{5}$`));
      expect(row(svc).curl.node).to.match(/^node-[ab]$/);
      expect(row(svc).reason, svc).to.equal(undefined);
    }
    for (const svc of ['web-l2', 'web-l2-v6']) {
      expect(row(svc).neighbour, svc).to.deep.include({
        ok: true,
        node: row(svc).announcedBy[0],
        owner: row(svc).announcedBy[0],
      });
    }
    expect(result.scenario).to.deep.include({ name: 'failover', ok: true });
    expect(result.scenario!.to).to.not.equal(result.scenario!.from);
    expect(err).to.include('herald lab: stopped and cleaned up');
    expect(err).to.match(/router bird 192\.0\.2\.254 2001:db8::254 AS 64512/);
    expect(err).to.match(/node-b: 192\.0\.2\.2 2001:db8::2 AS 64513/);
    nothingLeft();
  });

  for (const [scenario, router] of [
    ['bgp-withdraw', 'frr'],
    ['local', 'gobgp'],
  ] as const) {
    it(`--once --scenario ${scenario} --router ${router}: the router follows (stopped speaker withdrawn / only the endpoint's node), traffic keeps flowing`, async () => {
      const run = herald([
        'lab',
        '--once',
        '--json',
        '--nodes',
        '2',
        '--port',
        '0',
        '--state-dir',
        state,
        '--scenario',
        scenario,
        '--router',
        router,
      ]);
      const { code, out, err } = await run.done;
      expect(code, err).to.equal(0);
      const result = JSON.parse(out.trim().split('\n').at(-1)!) as LabResult;
      expect(result.scenario, err).to.deep.include({ name: scenario, ok: true });
      if (scenario === 'bgp-withdraw') expect(result.scenario).to.deep.include({ from: 'node-b', to: 'node-a' });
      else expect(result.scenario).to.deep.include({ to: 'node-b' });
      nothingLeft();
    });
  }

  it('a lab killed with SIGKILL leaves namespaces and processes that "herald lab down" removes', async () => {
    const run = herald(['lab', '--json', '--nodes', '1', '--port', '0', '--state-dir', state]);
    // Up far enough that every kind of process runs (the first table is printed).
    await eventually(
      () => run.stdout().includes('"services"') || undefined,
      'the lab to print its first table',
      120_000,
      200,
    );
    expect(processesWith(state).length).to.be.greaterThan(2);
    run.kill('SIGKILL');
    await run.done;
    expect(Netns.existing(labPrefix(state)).length).to.be.greaterThan(0);
    const down = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'herald.js'), 'lab', 'down', '--state-dir', state],
      { encoding: 'utf8' },
    );
    expect(down.status, down.stderr).to.equal(0);
    expect(down.stdout).to.match(/removed \d+ namespaces/);
    nothingLeft();
  });
});
