// The netns half of etcd-relay.ts, run as `ip netns exec NS node relay.mjs PORT SOCKET`: listens
// on 127.0.0.1:PORT inside the namespace and pipes each connection to the unix socket SOCKET, whose
// listener lives in the host's namespace. A unix socket is a file, so it crosses network
// namespaces where the host's loopback cannot. Prints `ready` once listening; exits when its stdin
// closes, so a parent that dies (even by SIGKILL) never leaves a relay behind.
import { connect, createServer } from 'node:net';

const [portText, socketPath] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || port <= 0 || port > 65535 || !socketPath) {
  process.stderr.write('usage: relay.mjs PORT SOCKET\n');
  process.exit(2);
}

const server = createServer((client) => {
  const upstream = connect(socketPath);
  // pipe() ends each side when the other ends; an error on either side drops both.
  const drop = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', drop);
  upstream.on('error', drop);
  client.pipe(upstream).pipe(client);
});

server.on('error', (err) => {
  process.stderr.write(`relay: ${err.message}\n`);
  process.exit(1);
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write('ready\n');
});

process.stdin.on('close', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
