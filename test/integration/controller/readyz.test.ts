/**
 * `/readyz` of the controller process (runController, in-process) on the embedded API
 * server: 200 once the active controller has synced and replayed; with leader election the
 * leader answers 200 and so does the standby (it can take over at once).
 */
import { expect } from 'chai';
import { runController, type RunningController } from '../../../controller/main.js';
import { RecordingLogger } from '../../../src/core/logger.js';
import { NAMESPACES, heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { eventually, startTestCluster, type TestCluster } from '../../support/apiserver.js';

const NS = 'herald-system';

async function readyz(port: number): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: await res.text() };
}

describe('controller /readyz', function () {
  this.timeout(30_000);
  let c: TestCluster;
  const stops: (() => void)[] = [];
  const running: RunningController[] = [];

  const start = async (leaderElect: boolean, identity: string): Promise<RunningController> => {
    let stop: () => void = () => undefined;
    const stopSignal = new Promise<void>((r) => (stop = r));
    stops.push(stop);
    const r = await runController({
      client: c.client,
      logger: new RecordingLogger(),
      namespace: NS,
      leaderElect,
      identity,
      leaseDurationMs: 2000,
      renewDeadlineMs: 1500,
      retryPeriodMs: 200,
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      stopSignal,
    });
    running.push(r);
    return r;
  };

  before(async () => {
    c = await startTestCluster({ herald: true });
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
    await c.client.create(heraldResource('IPAddressPool'), {
      metadata: { name: 'main', namespace: NS },
      spec: { addresses: ['192.0.2.0/29'] },
    } as KubeObject);
  });
  afterEach(async () => {
    for (const s of stops.splice(0)) s();
    await Promise.all(running.splice(0).map((r) => r.done));
  });
  after(async () => {
    await c.server.stop();
  });

  it('answers 200 on a controller without leader election once it has started', async () => {
    const r = await start(false, 'solo');
    expect(r.current()!.isReady()).to.equal(true);
    expect(await readyz(r.metricsPort)).to.deep.equal({ status: 200, body: 'ok\n' });
  });

  it('answers 200 on the leader and on the standby', async () => {
    const a = await start(true, 'a');
    const b = await start(true, 'b');
    const leader = await eventually(() => [a, b].find((r) => r.current()?.isReady()), 'a leader that has started');
    const standby = leader === a ? b : a;
    expect(standby.current()).to.equal(undefined);
    expect((await readyz(leader.metricsPort)).status).to.equal(200);
    expect((await readyz(standby.metricsPort)).status).to.equal(200);
  });
});
