import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onCleanup } from '../../conformance/cleanup';
import { findIp } from '../../conformance/sandbox';

// Plugins run inside a "node" netns whose loopback is not the host's, so an etcd listening on the
// host's 127.0.0.1 is out of their reach. The relay carries each TCP connection across on a unix
// socket: relay.mjs listens on 127.0.0.1:PORT in the netns and connects to the socket; this
// process accepts on the socket and connects to etcd. Bytes pass through untouched (HTTP/1.1 of
// the JSON gateway, HTTP/2 of gRPC, TLS alike).

const execFileAsync = promisify(execFile);

/** The netns half of the relay, a plain script so the child needs no TypeScript loader. */
const RELAY_SCRIPT = join(__dirname, 'relay.mjs');

/** How long the netns half may take to print `ready`. */
const READY_TIMEOUT_MS = 10_000;

/** An etcd reachable inside a netns. */
export interface EtcdRelay {
  /** The client URL inside the netns, e.g. `http://127.0.0.1:40123`. */
  readonly endpoint: string;
  /** Stops both halves and removes the socket directory; safe to call twice. */
  close(): Promise<void>;
}

/** Pipe `a` and `b` into each other; an error on either drops both. */
function splice(a: Socket, b: Socket): void {
  const drop = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', drop);
  b.on('error', drop);
  a.pipe(b).pipe(a);
}

/** The host half: a unix socket at `path` whose every connection is piped to `host:port`. */
async function listenHostSide(path: string, target: URL): Promise<[Server, Set<Socket>]> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    // URL keeps IPv6 hosts in brackets; connect() wants them bare.
    const upstream = connect(Number(target.port), target.hostname.replace(/^\[|\]$/g, ''));
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
    }
    splice(client, upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return [server, open];
}

/** Resolves when `child` prints `ready`; rejects with its stderr when it exits or times out. */
function readyOf(child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      reject(new Error(`${what}: no "ready" within ${READY_TIMEOUT_MS} ms; stderr: ${err}`));
    }, READY_TIMEOUT_MS);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.split('\n').includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      err = (err + chunk).slice(-2000);
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${what}: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${String(code ?? signal)}): ${err.trim()}`));
    });
  });
}

/** Resolves when `child` has exited, SIGKILLing it if SIGTERM has not ended it within 5 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  // No pid: it never started, and 'exit' may never come.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  child.stdin?.destroy();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Make the etcd at `etcdEndpoint` (on the host's loopback) reachable inside network namespace
 * `netns` at `127.0.0.1:<port>`, by default the etcd's own port so both sides use the same URL.
 * Brings `lo` up in `netns` first. Needs root and iproute2; `close()` undoes everything, and a
 * signal or exit of this process does too (conformance/cleanup.ts).
 */
export async function relayEtcd(
  netns: string,
  etcdEndpoint: string,
  options: { port?: number } = {},
): Promise<EtcdRelay> {
  const ip = findIp();
  if (ip === undefined) throw new Error('iproute2 `ip` not found: cannot relay etcd into a netns');
  const target = new URL(etcdEndpoint);
  if (target.port === '') throw new Error(`etcd endpoint ${etcdEndpoint} has no port`);
  const port = options.port ?? Number(target.port);
  const dir = mkdtempSync(join(tmpdir(), 'etcd-relay-'));
  const socketPath = join(dir, 'etcd.sock');
  let child: ChildProcess | undefined;
  let hostSide: [Server, Set<Socket>] | undefined;
  const unregister = onCleanup(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (child !== undefined) await stopChild(child);
    if (hostSide !== undefined) {
      const [server, open] = hostSide;
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    }
    rmSync(dir, { recursive: true, force: true });
    unregister();
  };
  try {
    await execFileAsync(ip, ['-n', netns, 'link', 'set', 'lo', 'up'], { timeout: 10_000 });
    hostSide = await listenHostSide(socketPath, target);
    child = spawn(
      ip,
      ['netns', 'exec', netns, process.execPath, RELAY_SCRIPT, String(port), socketPath],
      { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
    );
    await readyOf(child, `etcd relay in netns ${netns}`);
  } catch (err) {
    await close();
    throw err;
  }
  return { endpoint: `${target.protocol}//127.0.0.1:${String(port)}`, close };
}
