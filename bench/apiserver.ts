/**
 * Throughput of the embedded API server through Herald's KubeClient (client-node's HTTP
 * stack, TLS): create, merge-patch, list and watch delivery. The same-run reference is the
 * server's /healthz through the same client, so the ratios show what the API semantics cost
 * on top of the transport.
 *
 *   npx tsx bench/apiserver.ts [--n 2000] [--concurrency 16]
 */
import { startApiServer } from '../lab/apiserver/index.js';
import { CONFIGMAPS, KubeClient, NAMESPACES } from '../src/k8s/index.js';
import { arg } from './support/common.js';

async function timed(n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await op(next++);
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

const fmt = (x: number): string => x.toFixed(0).padStart(8);

async function main(): Promise<void> {
  const n = arg('n', 2000);
  const concurrency = arg('concurrency', 16);
  const server = await startApiServer({ serviceCIDRs: ['198.51.100.0/24'] });
  const client = KubeClient.fromString(server.kubeconfig());
  await client.create(NAMESPACES, { metadata: { name: 'bench' } });

  // Reference: /healthz on the same server through the same client and TLS: transport
  // cost with no API work behind it.
  const refRate = await timed(n, concurrency, () => client.request('GET' as never, '/healthz'));

  const createSeq = await timed(Math.min(n, 500), 1, (i) =>
    client.create(CONFIGMAPS, { metadata: { name: `seq-${i}`, namespace: 'bench' }, data: { i: String(i) } }),
  );
  const createPar = await timed(n, concurrency, (i) =>
    client.create(CONFIGMAPS, { metadata: { name: `par-${i}`, namespace: 'bench' }, data: { i: String(i) } }),
  );
  const patch = await timed(n, concurrency, (i) =>
    client.patch(CONFIGMAPS, 'bench', `par-${i % n}`, { data: { v: String(i) } }),
  );
  const listRate = await timed(50, 4, () => client.list(CONFIGMAPS, { namespace: 'bench' }));

  // Watch delivery: objects written in-process, events received over HTTPS by a client watch.
  let received = 0;
  const total = n;
  const done = new Promise<void>((resolve) => {
    void client
      .watch(
        CONFIGMAPS,
        { namespace: 'bench', resourceVersion: String(server.core.store.currentRv()) },
        () => {
          if (++received === total) resolve();
        },
        () => undefined,
      )
      .then((s) => {
        const info = server.core.registry.lookup('', 'v1', 'configmaps')!;
        const start = performance.now();
        for (let i = 0; i < total; i++)
          server.core.create(info, 'bench', { metadata: { name: `w-${i}` }, data: { i: String(i) } });
        void done.then(() => {
          watchRate = total / ((performance.now() - start) / 1000);
          s.stop();
        });
      });
  });
  let watchRate = 0;
  await done;
  await new Promise((r) => setImmediate(r));

  const lines = [
    `herald bench apiserver: n=${n} concurrency=${concurrency} (node ${process.version})`,
    `  reference  GET /healthz (same client, TLS)   ${fmt(refRate)} req/s   1.00x`,
    `  create     sequential                        ${fmt(createSeq)} ops/s   ${(createSeq / refRate).toFixed(2)}x`,
    `  create     concurrent                        ${fmt(createPar)} ops/s   ${(createPar / refRate).toFixed(2)}x`,
    `  patch      merge, concurrent                 ${fmt(patch)} ops/s   ${(patch / refRate).toFixed(2)}x`,
    `  list       ${String(n + Math.min(n, 500)).padStart(5)} objects                     ${fmt(listRate)} lists/s`,
    `  watch      events delivered                  ${fmt(watchRate)} events/s ${(watchRate / refRate).toFixed(2)}x`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await server.stop();
}

await main();
