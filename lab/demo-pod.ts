/**
 * Stands in for a pod behind the demo Services inside a node namespace: an HTTP server that
 * answers with its node's name on every address of the namespace (service IPs sit on lo).
 * Usage: demo-pod <node-name> [port].
 */
import { createServer } from 'node:http';

const node = process.argv[2] ?? 'unknown';
const port = Number(process.argv[3] ?? 80);
createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end(`${node}\n`);
}).listen(port, '::', () => process.stdout.write(`demo pod on ${node}:${port}\n`));
