/**
 * `herald lab` end to end, non-interactively (`--once --json`): every demo Service has an
 * address that a real curl from the client reaches in L2 (v4, v6) and BGP mode, failover
 * completes, and afterwards nothing is left — no namespaces, links or processes. A lab
 * killed with SIGKILL is cleaned up by `herald lab down`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { LabResult } from '../../../lab/lab.js';
import { Netns } from '../../../lab/netns.js';
import { eventually } from '../../support/apiserver.js';
import { REPO_ROOT } from '../../support/crds.js';
import { canUseNetns } from '../../support/netns.js';
import { requireTool } from '../../support/tools.js';

/** Processes whose command line mentions `dir`. */
function processesWith(dir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dir)) out.push(`${pid} ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Link names in the root namespace. */
function rootLinks(): string[] {
  return (JSON.parse(spawnSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }).stdout) as { ifname: string }[]).map((l) => l.ifname).sort();
}

function herald(args: string[]): { done: Promise<{ code: number | null; out: string; err: string }>; kill: (s: NodeJS.Signals) => void; stdout: () => string } {
  const p = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'herald.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { done: new Promise((resolve) => p.on('exit', (code) => resolve({ code, out, err }))), kill: (s) => p.kill(s), stdout: () => out };
}

describe('herald lab', function () {
  this.timeout(240_000);
  let state: string;
  let linksBefore: string[];

  before(function () {
    requireTool(this, 'bird');
    requireTool(this, 'curl');
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
    expect(Netns.existing('hl')).to.deep.equal([]);
    expect(processesWith(state)).to.deep.equal([]);
    expect(rootLinks()).to.deep.equal(linksBefore);
  };

  it('--once --json: every demo Service answers through L2 v4, L2 v6 and BGP, failover completes, nothing is left', async () => {
    const run = herald(['lab', '--once', '--json', '--nodes', '2', '--port', '0', '--state-dir', state, '--scenario', 'failover']);
    const { code, out, err } = await run.done;
    expect(code, err).to.equal(0);
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as LabResult & { allReachable: boolean };
    expect(result.allReachable).to.equal(true);
    const row = (svc: string): LabResult['services'][number] => result.services.find((r) => r.service === `default/${svc}`)!;
    expect(row('web-l2')).to.deep.include({ pool: 'lan-v4', mode: 'L2' });
    expect(row('web-l2').ip).to.match(/^192\.0\.2\.\d+$/);
    expect(row('web-l2-v6')).to.deep.include({ pool: 'lan-v6', mode: 'L2' });
    expect(row('web-l2-v6').ip).to.match(/^2001:db8::64:/);
    expect(row('web-bgp')).to.deep.include({ pool: 'routed-v4', mode: 'BGP' });
    expect(row('web-bgp').announcedBy).to.deep.equal(['node-a', 'node-b']);
    for (const svc of ['web-l2', 'web-l2-v6', 'web-bgp']) {
      expect(row(svc).curl.ok, svc).to.equal(true);
      expect(row(svc).curl.node).to.match(/^node-[ab]$/);
      expect(row(svc).announcedBy.length, svc).to.be.greaterThan(0);
    }
    expect(result.scenario).to.deep.include({ name: 'failover', ok: true });
    expect(result.scenario!.to).to.not.equal(result.scenario!.from);
    expect(err).to.include('herald lab: stopped and cleaned up');
    nothingLeft();
  });

  for (const scenario of ['bgp-withdraw', 'local']) {
    it(`--once --scenario ${scenario}: the router follows (stopped speaker withdrawn / only the endpoint's node), traffic keeps flowing`, async () => {
      const run = herald(['lab', '--once', '--json', '--nodes', '2', '--port', '0', '--state-dir', state, '--scenario', scenario]);
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
    await eventually(() => run.stdout().includes('"services"') || undefined, 'the lab to print its first table', 120_000, 200);
    expect(processesWith(state).length).to.be.greaterThan(2);
    run.kill('SIGKILL');
    await run.done;
    expect(Netns.existing('hl').length).to.be.greaterThan(0);
    const down = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'herald.js'), 'lab', 'down', '--state-dir', state], { encoding: 'utf8' });
    expect(down.status, down.stderr).to.equal(0);
    expect(down.stdout).to.match(/removed \d+ namespaces/);
    nothingLeft();
  });
});
