/** `herald lab` end to end: it comes up, every demo Service answers a real curl, failover works, and it cleans up. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Netns } from '../../../lab/netns.js';
import { REPO_ROOT } from '../../support/crds.js';
import { canUseNetns } from '../../support/netns.js';
import { requireTool } from '../../support/tools.js';

/** Lines the lab must print: every demo Service served (mode and announcer known), and the failover. */
const WANT = [
  /default\/web-l2 +192\.0\.2\.\d+ +lan-v4 +L2 +node-[\w,-]+ +node-\w \(\d+ ms\)/,
  /default\/web-l2-v6 +2001:db8::64:\w* +lan-v6 +L2 +node-[\w,-]+ +node-\w \(\d+ ms\)/,
  /default\/web-bgp +203\.0\.113\.\d+ +routed-v4 +BGP +node-a,node-b +node-\w \(\d+ ms\)/,
  /scenario failover: traffic flows through node-\w after \d+ ms/,
];

describe('herald lab', function () {
  this.timeout(180_000);

  before(function () {
    requireTool(this, 'bird');
    requireTool(this, 'curl');
    if (!canUseNetns()) {
      if (process.env['CI'] === 'true') throw new Error('the lab needs root');
      this.skip();
    }
  });

  it('serves every demo Service through L2 v4, L2 v6 and BGP, fails over, then removes everything', async () => {
    const state = mkdtempSync(join(tmpdir(), 'herald-lab-'));
    try {
      const out = await new Promise<string>((resolve) => {
        const p = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'herald.js'), 'lab', '--nodes', '2', '--rounds', '90', '--port', '0', '--state-dir', state, '--scenario', 'failover'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        let asked = false;
        p.stdout.on('data', (d: Buffer) => {
          text += d.toString();
          const done = WANT.every((re) => re.test(text));
          if (done && !asked) {
            asked = true;
            p.kill('SIGINT');
          }
        });
        p.stderr.on('data', (d: Buffer) => (text += d.toString()));
        p.on('exit', () => resolve(text));
      });
      for (const re of WANT) expect(out).to.match(re);
      expect(out).to.include('herald lab: stopped and cleaned up');
      expect(Netns.existing('hl')).to.deep.equal([]);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});
