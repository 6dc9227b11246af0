/**
 * The conformance diff: the same scripted requests (test/support/conformance-script.ts) sent
 * to the embedded API server and to a real kube-apiserver, compared step by step. Every
 * difference must be one explained in docs/apiserver.md ("Differences the conformance diff
 * finds"), listed in EXPLAINED below by step; an explained difference that has gone away
 * fails too, so the list stays true. Registered on the real lane only (HERALD_KUBE=real).
 */
import { expect } from 'chai';
import { startTestCluster, type TestCluster } from '../../support/apiserver.js';
import { runConformanceScript } from '../../support/conformance-script.js';
import { kubeLane, startKubeCluster, type KubeCluster } from '../../support/kube-cluster.js';

/** Step id -> why the embedded server answers differently (each also in docs/apiserver.md). */
const EXPLAINED: Record<string, string> = {};

if (kubeLane() === 'real') {
  describe('conformance diff: the embedded and the real API server answer the same script', function () {
    this.timeout(300_000);
    let embedded: TestCluster;
    let real: KubeCluster;
    before(async () => {
      embedded = await startTestCluster();
      real = await startKubeCluster();
    });
    after(async () => {
      await embedded?.server.stop();
      await real?.stop();
    });

    it('differs only where docs/apiserver.md says it does', async () => {
      const a = await runConformanceScript(embedded.client);
      const b = await runConformanceScript(real.client);
      expect(a.map(([id]) => id)).to.deep.equal(b.map(([id]) => id));
      const unexplained: string[] = [];
      const differing = new Set<string>();
      a.forEach(([id, got], i) => {
        const want = b[i]![1];
        if (got === want) return;
        differing.add(id);
        if (!EXPLAINED[id]) unexplained.push(`${id}\n  embedded: ${got}\n  real:     ${want}`);
      });
      expect(unexplained, `unexplained differences:\n${unexplained.join('\n')}`).to.deep.equal([]);
      const gone = Object.keys(EXPLAINED).filter((id) => !differing.has(id));
      expect(gone, 'explained differences that no longer differ (remove them from EXPLAINED and docs/apiserver.md)').to.deep.equal([]);
    });
  });
}
