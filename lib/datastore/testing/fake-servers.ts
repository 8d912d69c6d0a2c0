import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { freePorts } from './etcd-server';

// Servers that are not a working etcd, to prove that failures are bounded and explained.

/** A listening fake server. */
export interface FakeServer {
  endpoint: string;
  close(): Promise<void>;
}

async function listen(server: Server, sockets: Set<Socket>): Promise<FakeServer> {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** Accepts TCP connections and never says a word: the "etcd hangs" case. */
export function startSilentServer(): Promise<FakeServer> {
  return listen(
    createServer(() => undefined),
    new Set(),
  );
}

/** A plain HTTP server that is not etcd, answering every request with `listener`. */
export function startHttpServer(listener: RequestListener): Promise<FakeServer> {
  return listen(createHttpServer(listener), new Set());
}

/** An http URL on a loopback port nobody listens on: connections are refused at once. */
export async function deadEndpoint(): Promise<string> {
  const [port] = await freePorts(1);
  return `http://127.0.0.1:${port ?? 1}`;
}
