/**
 * The embedded API server as its own process for benches that put Herald programs in network
 * namespaces: it serves TCP on 127.0.0.1 (for the bench) and a Unix socket (for
 * lab/ns-forwarder.ts inside the namespaces), with the CRDs applied. Prints `ready` once
 * listening; stops on SIGTERM or SIGINT. On SIGUSR2 it prints one line `counts <JSON>`: the
 * writes served so far by `verb resource ua=<User-Agent> fieldManager=<query>`.
 *
 *   node --import tsx bench/support/apiserver-process.ts <unix-socket> <kubeconfig-out> [service-cidr ...]
 */
import { applyObjects, startApiServer } from '../../lab/apiserver/index.js';
import { loadCrds } from '../../test/support/crds.js';

const [sock, kubeconfig, ...cidrs] = process.argv.slice(2);
if (!sock || !kubeconfig) {
  process.stderr.write('usage: apiserver-process <unix-socket> <kubeconfig-out> [service-cidr ...]\n');
  process.exit(2);
}
const server = await startApiServer({
  port: 0,
  unixSocket: sock,
  ...(cidrs.length > 0 ? { serviceCIDRs: cidrs } : {}),
});
const crds = loadCrds().map((c) => {
  const o: Record<string, unknown> = { ...c };
  delete o['file'];
  return o;
});
const failed = applyObjects(server.core, crds).filter((r) => !r.ok);
for (const r of failed) process.stderr.write(`apiserver-process: ${r.ref}: ${r.message}\n`);
server.writeKubeconfig(kubeconfig);
process.stdout.write(`ready ${server.url}\n`);
const stop = (): void => {
  void server.stop().then(() => process.exit(0));
};
process.on('SIGUSR2', () => process.stdout.write(`counts ${JSON.stringify(Object.fromEntries(server.writeAgents))}\n`));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
