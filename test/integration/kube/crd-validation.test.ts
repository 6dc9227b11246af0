/**
 * The embedded API server's CRD validation agrees with kube-apiserver's (OpenAPI schema and
 * the real CEL implementation): every fixture in test/fixtures/invalid/ and every sample in
 * crds/samples/ is sent to both; the verdicts (accepted, or status code, reason and the field
 * paths named) must be the same. Registered on the real lane only (HERALD_KUBE=real).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { NAMESPACES } from '../../../src/k8s/index.js';
import { startTestCluster, type TestCluster } from '../../support/apiserver.js';
import { CRD_DIR, REPO_ROOT } from '../../support/crds.js';
import { kubeLane, startKubeCluster, type KubeCluster } from '../../support/kube-cluster.js';
import { parseDocs, sendAll } from '../../support/verdicts.js';

const INVALID = join(REPO_ROOT, 'test', 'fixtures', 'invalid');
const SAMPLES = join(CRD_DIR, 'samples');

if (kubeLane() === 'real') {
  describe('CRD validation: the embedded and the real API server agree', function () {
    this.timeout(300_000);
    let embedded: TestCluster;
    let real: KubeCluster;
    before(async () => {
      embedded = await startTestCluster({ herald: true });
      real = await startKubeCluster({ herald: true });
      for (const c of [embedded.client, real.client])
        await c.create(NAMESPACES, { metadata: { name: 'herald-system' } });
    });
    after(async () => {
      await embedded?.server.stop();
      await real?.stop();
    });

    it('gives every invalid fixture and every sample the same verdict and field paths on both', async () => {
      const files = [
        ...readdirSync(INVALID).map((f) => join(INVALID, f)),
        ...readdirSync(SAMPLES).map((f) => join(SAMPLES, f)),
      ].filter((f) => f.endsWith('.yaml'));
      const differences: string[] = [];
      const verdicts: string[] = [];
      let yamlErrors = 0;
      for (const file of files) {
        const docs = parseDocs(readFileSync(file, 'utf8'));
        const name = file.slice(REPO_ROOT.length + 1);
        if (docs instanceof Error) {
          yamlErrors++;
          continue; // not YAML: no server ever sees it
        }
        const [a, b] = [await sendAll(embedded.client, docs), await sendAll(real.client, docs)];
        docs.forEach((d, i) => {
          const what = `${name}#${i} ${String(d['kind'])}/${String((d['metadata'] as { name?: string } | undefined)?.name)}`;
          verdicts.push(`${what}: ${b[i]!}`);
          if (a[i] !== b[i]) differences.push(`${what}: embedded ${a[i]!} | real ${b[i]!}`);
        });
      }
      expect(differences, `verdicts that differ:\n${differences.join('\n')}`).to.deep.equal([]);
      // Not vacuous: the schema and CEL rules reject some fixtures, and every sample is accepted.
      expect(verdicts.filter((v) => / 422 Invalid /.test(v)).length, verdicts.join('\n')).to.be.greaterThan(5);
      expect(
        verdicts.filter((v) => v.startsWith('crds/samples/') && !v.endsWith(': accepted') && !v.includes('Namespace/')),
      ).to.deep.equal([]);
      // 39-yaml-syntax and 41-yaml-alias are not YAML a server could be sent.
      expect(yamlErrors).to.equal(2);
    });
  });
}
