/**
 * The speakers' memberlist Secret is made even when the API server fails the controller's
 * first tries: at 100k Services the controller's start blocks its event loop long enough for
 * the server to close idle keep-alive connections, and the Secret's GET then failed with
 * "socket hang up"; it was tried once per start, so speakers waited for a Secret that this
 * controller never made. Now it is retried with the pool queue's backoff until it exists.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MEMBERLIST_SECRET, MEMBERLIST_SECRET_KEY } from '../../../src/api/names.js';
import { NAMESPACES, SECRETS, heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { eventually, startTestCluster, type TestCluster } from '../../support/apiserver.js';
import { spawnController, type ControllerProcess } from '../../support/controller-process.js';

const NS = 'herald-system';

describe('controller: the memberlist Secret despite API failures', function () {
  this.timeout(60_000);
  let c: TestCluster;
  let dir: string;
  let ctl: ControllerProcess | undefined;

  before(async () => {
    c = await startTestCluster({ herald: true });
    dir = mkdtempSync(join(tmpdir(), 'herald-memberlist-'));
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
    await c.client.create(heraldResource('IPAddressPool'), {
      metadata: { name: 'main', namespace: NS },
      spec: { addresses: ['192.0.2.0/29'] },
    } as KubeObject);
  });
  after(async () => {
    await ctl?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await c.server.stop();
  });

  it('failed creates are retried until the Secret exists', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    c.server.writeKubeconfig(kubeconfig);
    // Creates only: the test cluster's own controllers GET Secrets too and would use up a GET fault.
    c.server.faults.failNext({ resource: 'secrets', verb: 'create', count: 2, status: 503 });
    c.server.faults.failNext({ resource: 'secrets', verb: 'create', count: 1, status: 500 });
    ctl = spawnController(kubeconfig);
    const secret = await eventually(
      () => c.client.tryGet(SECRETS, NS, MEMBERLIST_SECRET),
      'the memberlist Secret',
      30_000,
    );
    const key = Buffer.from(String((secret['data'] as Record<string, string>)[MEMBERLIST_SECRET_KEY]), 'base64');
    expect(key.length, 'the key (base64 of 32 random bytes)').to.equal(44);
    const failures = ctl
      .log()
      .split('\n')
      .filter((l) => l.includes('"memberlistSecretFailed"'));
    expect(failures.length, ctl.log()).to.equal(3);
    for (const l of failures) expect(l).to.include('will retry').and.include(`${NS}/${MEMBERLIST_SECRET}`);
    await eventually(() => ctl!.log().includes('"memberlistSecretCreated"') || undefined, 'the created line', 10_000);
  });
});
