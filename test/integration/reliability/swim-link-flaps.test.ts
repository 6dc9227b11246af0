/**
 * Issue 18 item 4, in CI: SWIM member flaps by link cut (test/support/swim-link-flaps.ts).
 * The node owning a Layer 2 address has its own eth0 set down and up 4 times: each time
 * another speaker logs it gone, another node answers ARP for the address, and once the link
 * is back the member is logged back and answers again. The other speakers keep their open
 * fds (by kind) from after the 2nd flap, give or take one API connection, and nothing
 * restarts. bench/soak.ts `--swim-link-flaps 100` runs the long version with RSS figures.
 */
import { expect } from 'chai';
import { eventually } from '../../support/apiserver.js';
import { useSpeakerCluster } from '../../support/speaker-cluster.js';
import { runSwimLinkFlaps } from '../../support/swim-link-flaps.js';

const NS = 'herald-system';
const NODE_IPS: Record<string, string> = { 'node-a': '192.0.2.1', 'node-b': '192.0.2.2', 'node-c': '192.0.2.3' };

describe('reliability: SWIM member flaps by link cut (speaker processes, arping)', function () {
  this.timeout(300_000);
  const e = useSpeakerCluster(NS, NODE_IPS, undefined, ['bird', 'arping']);

  it("4 link cuts of the owner: detected, taken over, rejoined, answered again; the others' fds do not grow", async () => {
    const f = await runSwimLinkFlaps(e, NODE_IPS, 4, { warmAfter: 2 });
    expect(f.detectMs).to.have.length(4);
    expect(f.backMs).to.have.length(4);
    expect(f.exited, 'speakers that exited').to.deep.equal([]);
    // One fd of slack per kind for a keep-alive connection to the API that happens to be open.
    await eventually(
      () => {
        const now = f.health();
        return (
          Object.entries(now).every(([node, h]) =>
            Object.entries(h.byKind).every(([kind, n]) => n <= (f.warm[node]!.byKind[kind] ?? 0) + 1),
          ) || undefined
        );
      },
      "the other speakers' fds back to what they held after the 2nd flap",
      20_000,
      200,
    ).catch((err: unknown) => {
      throw new Error(
        `${(err as Error).message}: after flap 2 ${JSON.stringify(f.warm)}, now ${JSON.stringify(f.health())}`,
      );
    });
  });
});
