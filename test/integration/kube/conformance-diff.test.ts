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
const EXPLAINED: Record<string, string> = {
  'configmap create':
    'the embedded server sets metadata.generation on every kind; kube-apiserver only where the strategy tracks it',
  'configmap create, dryRun=All': 'dryRun=All is ignored: the object is created',
  'get after a dry-run create': 'dryRun=All is ignored: the object is created',
  'server-side apply without fieldManager': 'accepted; kube-apiserver requires fieldManager for apply (422)',
  'create with an invalid label value': 'no metadata validation (label keys and values)',
  'create with an invalid finalizer name': 'no metadata validation (finalizer names)',
  'list items carry kind': 'list items carry kind/apiVersion; kube-apiserver omits them',
  'list from a resourceVersion far in the future': 'the 504 lacks the ResourceVersionTooLarge cause',
  'watch from resourceVersion 1':
    'an ERROR 410 at once; kube-apiserver replays the history it still has (until a compaction)',
  'watch with an unsupported field selector': 'a 200 stream with an ERROR event; kube-apiserver answers 400',
  'remove the last finalizer':
    'the patch that removes the last finalizer of a deleting object answers with the object before the patch',
  'delete without finalizers': 'DELETE answers with the deleted object; kube-apiserver with a Status for ConfigMaps',
  'Service LoadBalancer with clusterIP None': 'no Service spec validation: a headless LoadBalancer is accepted',
  'Service ClusterIP with externalTrafficPolicy Local':
    'externalTrafficPolicy on a ClusterIP Service is dropped; kube-apiserver answers 422',
  'Service bogus sessionAffinity': 'no Service spec validation: an unknown sessionAffinity is stored',
  'Service status ingress': 'kube-apiserver defaults ingress ipMode to VIP; the embedded server leaves it unset',
  'Service status condition without lastTransitionTime':
    'kube-apiserver returns lastTransitionTime: null; the embedded server omits the key',
  'Lease with an invalid time': 'an unparsable MicroTime is stored; kube-apiserver answers 400',
  'Event create': 'kube-apiserver returns reportingComponent ""; the embedded server omits it',
  'Event about an object in another namespace': 'accepted; kube-apiserver answers 422 (involvedObject.namespace)',
};

if (kubeLane() === 'real') {
  describe('conformance diff: the embedded and the real API server answer the same script', function () {
    this.timeout(300_000);
    let embedded: TestCluster;
    let real: KubeCluster;
    before(async () => {
      embedded = await startTestCluster({ herald: true });
      real = await startKubeCluster({ herald: true });
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
      expect(
        gone,
        'explained differences that no longer differ (remove them from EXPLAINED and docs/apiserver.md)',
      ).to.deep.equal([]);
    });
  });
}
