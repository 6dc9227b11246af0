/**
 * `herald lab --web PORT` in a real browser: headless Chromium loads the page while the lab
 * runs and the picture shows the router, every node with its Established session, and the
 * demo Services as served under the node that answers for them. The screenshot is kept in
 * test-artifacts/ (or $HERALD_TEST_ARTIFACTS).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { eventually } from '../../support/apiserver.js';
import { REPO_ROOT } from '../../support/crds.js';
import { canUseNetns } from '../../support/netns.js';
import { requireTool } from '../../support/tools.js';
import { herald, type HeraldRun } from './support.js';

function chromium(args: string[], profile: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn('chromium', [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      `--user-data-dir=${profile}`,
      '--window-size=1200,900',
      '--virtual-time-budget=4000',
      ...args,
    ]);
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('herald lab --web in headless Chromium', function () {
  this.timeout(240_000);
  let state: string;
  let run: HeraldRun | undefined;

  before(function () {
    for (const tool of ['bird', 'curl', 'arping', 'ndisc6', 'chromium']) requireTool(this, tool);
    if (!canUseNetns()) {
      if (process.env['CI'] === 'true') throw new Error('the lab needs root');
      this.skip();
    }
    state = mkdtempSync(join(tmpdir(), 'herald-lab-web-'));
  });
  after(async () => {
    run?.kill('SIGTERM');
    await run?.done;
    spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'herald.js'), 'lab', 'down', '--state-dir', state]);
    rmSync(state, { recursive: true, force: true });
  });

  it('shows the router, the nodes with Established sessions and the demo Services served, and updates', async () => {
    run = herald(['lab', '--json', '--nodes', '2', '--port', '0', '--state-dir', state, '--web', '0']);
    const url = await eventually(
      () => /web view: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(run!.stderr())?.[1],
      'the web view address',
      120_000,
      200,
    );
    // Served and established, as the lab itself sees it.
    await eventually(
      () =>
        run!
          .stdout()
          .split('\n')
          .some((l) => l.includes('"allReachable":true')) || undefined,
      'the demo Services to be served',
      150_000,
      500,
    );
    const profile = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
    try {
      const dom = await eventually(
        async () => {
          const r = await chromium(['--dump-dom', url], profile);
          return /data-session="node-b:Established"/.test(r.out) &&
            (r.out.match(/data-service="default\/web-[^"]+" data-ok="true"/g) ?? []).length >= 3
            ? r.out
            : undefined;
        },
        'the page to show both sessions Established and the three demo Services served',
        60_000,
        1000,
      );
      expect(dom).to.include('data-role="router"');
      expect(dom).to.include('router (bird) AS 64512');
      expect(dom).to.match(/data-node="node-a"/);
      expect(dom).to.match(/data-session="node-a:Established"/);
      expect(dom).to.match(/<tr data-ok="true" data-service="default\/web-l2">/);
      const updated = /updated (\S+)</.exec(dom)?.[1];
      expect(updated).to.match(/^\d{4}-\d\d-\d\dT/);
      const later = await chromium(['--dump-dom', url], profile);
      expect(/updated (\S+)</.exec(later.out)?.[1]).to.not.equal(updated);
      const dir = process.env['HERALD_TEST_ARTIFACTS'] ?? join(REPO_ROOT, 'test-artifacts');
      mkdirSync(dir, { recursive: true });
      const png = join(dir, 'lab-web.png');
      rmSync(png, { force: true });
      const shot = await chromium([`--screenshot=${png}`, url], profile);
      expect(existsSync(png), shot.err).to.equal(true);
      expect(statSync(png).size).to.be.greaterThan(10_000);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
