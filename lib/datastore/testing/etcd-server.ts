import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A throw-away single-member etcd on loopback ports for the etcd test tier (DESIGN.md, tier 2).

/** The etcd binary of the Debian package `etcd-server` (ETCD_TEST_BINARY overrides it). */
export const ETCD_BINARY = process.env.ETCD_TEST_BINARY ?? '/usr/bin/etcd';

/** Client TLS for the server: `--cert-file --key-file --client-cert-auth --trusted-ca-file`. */
export interface ServerTls {
  certFile: string;
  keyFile: string;
  caFile: string;
  /** A client certificate and key the helper itself uses for health checks and wipes. */
  clientCertFile: string;
  clientKeyFile: string;
}

/** A running etcd. */
export interface EtcdServer {
  /** The client URL, e.g. `http://127.0.0.1:40123`. */
  endpoint: string;
  /** Deletes every key under `prefix` (default: every key). */
  wipe(prefix?: string): Promise<void>;
  /** Stops etcd and removes its data directory; safe to call twice. */
  stop(): Promise<void>;
}

/** Why etcd tests cannot run here, or undefined when they can. */
export function etcdMissingReason(): string | undefined {
  return existsSync(ETCD_BINARY)
    ? undefined
    : `${ETCD_BINARY} not found (install the Debian package etcd-server)`;
}

/** Starts etcd on free loopback ports and waits until it answers /health. */
export async function startEtcd(options: { tls?: ServerTls } = {}): Promise<EtcdServer> {
  let lastError: unknown;
  // Two free ports are picked and released before etcd binds them: another process may take one
  // in between, so a failed start is retried on new ports.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options.tls);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOnce(tls: ServerTls | undefined): Promise<EtcdServer> {
  const [clientPort, peerPort] = await freePorts(2);
  const scheme = tls === undefined ? 'http' : 'https';
  const endpoint = `${scheme}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  // tmpfs when there is one: etcd fsyncs every write, which dominates the tests' run time on disk.
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dataDir = mkdtempSync(join(base, 'calico-ts-etcd-'));
  const args = [
    '--name=default',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    '--logger=zap',
    '--log-level=error',
    ...(tls === undefined
      ? []
      : [
          `--cert-file=${tls.certFile}`,
          `--key-file=${tls.keyFile}`,
          `--trusted-ca-file=${tls.caFile}`,
          '--client-cert-auth',
        ]),
  ];
  // etcd reads every ETCD_* variable as a flag: give it a clean environment.
  const child = spawn(ETCD_BINARY, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const cleanupOnExit = (): void => {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('exit', cleanupOnExit);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await terminate(child);
    rmSync(dataDir, { recursive: true, force: true });
    process.removeListener('exit', cleanupOnExit);
  };
  const client = helperClient(endpoint, tls);
  try {
    await waitHealthy(child, client, () => stderr);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    endpoint,
    stop,
    wipe: async (prefix = '') => {
      const range = prefix === '' ? { key: 'AA==', range_end: 'AA==' } : prefixRange(prefix);
      const { status, text } = await client('/v3/kv/deleterange', range);
      if (status !== 200) throw new Error(`etcd wipe failed: HTTP ${status} ${text}`);
    },
  };
}

function prefixRange(prefix: string): { key: string; range_end: string } {
  const key = Buffer.from(prefix);
  const end = Buffer.from(key);
  // Test prefixes are ASCII, so incrementing the last byte never overflows.
  end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
  return { key: key.toString('base64'), range_end: end.toString('base64') };
}

/** POSTs (or GETs, without a body) to one etcd, outside the code under test. */
export type HelperClient = (
  path: string,
  body?: unknown,
) => Promise<{ status: number; text: string }>;

/** A bare client for health checks and wipes, independent of the code under test. */
export function helperClient(endpoint: string, tls: ServerTls | undefined): HelperClient {
  const url = new URL(endpoint);
  return (path, body) =>
    new Promise((resolve, reject) => {
      const options = {
        hostname: url.hostname,
        port: Number(url.port),
        path,
        method: body === undefined ? 'GET' : 'POST',
        timeout: 2000,
        ...(tls === undefined
          ? {}
          : {
              ca: readFileSync(tls.caFile),
              cert: readFileSync(tls.clientCertFile),
              key: readFileSync(tls.clientKeyFile),
            }),
      };
      const req = (tls === undefined ? httpRequest : httpsRequest)(options, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text });
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
}

/** Waits until etcd's /health says true, or throws with etcd's stderr after 20 s. */
export async function waitHealthy(
  child: ChildProcess,
  client: HelperClient,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`etcd exited (${child.exitCode ?? child.signalCode}): ${stderr()}`);
    }
    try {
      const { status, text } = await client('/health');
      if (status === 200 && text.includes('"health":"true"')) return;
      last = `HTTP ${status} ${text}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`etcd did not become healthy within 20 s (${last}): ${stderr()}`);
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
export async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    child.kill('SIGKILL');
  }, 5000);
  await exited;
  clearTimeout(timer);
}

/** Ports that were free a moment ago (all held at once, so they differ). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => {
            resolve(server);
          });
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => {
            resolve();
          });
        }),
    ),
  );
  return ports;
}
