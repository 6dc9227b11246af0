/** Every shipped sample is accepted by the API server's own CRD validation, in file order (embedded or real: HERALD_KUBE). */
import { expect } from 'chai';
import { loadSamples } from '../../support/crds.js';
import { kubeLane, resourceTypeFor, startKubeCluster, type KubeCluster } from '../../support/kube-cluster.js';
import { apiVersionOf, type KubeObject } from '../../../src/k8s/index.js';

describe(`${kubeLane()} API server: crds/samples`, function () {
  this.timeout(120_000);
  let c: KubeCluster;
  before(async () => {
    c = await startKubeCluster({ herald: true });
  });
  after(async () => {
    await c?.stop();
  });

  it('creates every sample through client-node', async () => {
    const created: string[] = [];
    for (const { file, object } of loadSamples()) {
      const type = await resourceTypeFor(c.client, String(object['apiVersion']), String(object['kind']));
      expect(type, `${file}: ${String(object['kind'])}`).to.not.equal(undefined);
      const out = await c.client.create(type!, object as KubeObject);
      expect(out.apiVersion).to.equal(apiVersionOf(type!));
      created.push(`${String(object['kind'])}/${out.metadata.name}`);
    }
    expect(created).to.include.members(['Namespace/herald-system', 'IPAddressPool/lan-v4', 'BGPPeer/router']);
  });
});
