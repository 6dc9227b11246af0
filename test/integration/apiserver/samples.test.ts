/** Every shipped sample is accepted by the API server's own CRD validation, in file order. */
import { expect } from 'chai';
import { loadSamples } from '../../support/crds.js';
import { startTestCluster, type TestCluster } from '../../support/apiserver.js';
import { apiVersionOf, type KubeObject, type ResourceType } from '../../../src/k8s/index.js';

describe('embedded API server: crds/samples', () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster({ herald: true });
  });
  after(async () => {
    await c.server.stop();
  });

  it('creates every sample through client-node', async () => {
    const created: string[] = [];
    for (const { file, object } of loadSamples()) {
      const [group, version] = String(object['apiVersion']).includes('/') ? String(object['apiVersion']).split('/') : ['', String(object['apiVersion'])];
      const info = c.server.core.registry.all().find((r) => r.group === group && r.version === version && r.kind === object['kind']);
      expect(info, `${file}: ${String(object['kind'])}`).to.not.equal(undefined);
      const type: ResourceType = { group: info!.group, version: info!.version, plural: info!.resource, kind: info!.kind, namespaced: info!.namespaced };
      const out = await c.client.create(type, object as KubeObject);
      expect(out.apiVersion).to.equal(apiVersionOf(type));
      created.push(`${String(object['kind'])}/${out.metadata.name}`);
    }
    expect(created).to.include.members(['Namespace/herald-system', 'IPAddressPool/lan-v4', 'BGPPeer/router']);
  });
});
