/**
 * Runs inside a network namespace: accepts TCP on 127.0.0.1:<port> and forwards each
 * connection to a Unix socket (the embedded API server's), so programs in the namespace
 * reach the API on their own loopback. Usage: ns-forwarder <port> <unix-socket>.
 */
import { createConnection, createServer } from 'node:net';

const port = Number(process.argv[2]);
const path = process.argv[3]!;
const server = createServer((client) => {
  const upstream = createConnection(path);
  client.pipe(upstream).pipe(client);
  const close = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`forwarding 127.0.0.1:${port} -> ${path}\n`));
