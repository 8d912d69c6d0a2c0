import { connect, createServer, type Server, type Socket } from 'node:net';

/** A held host lock; release it exactly once (releasing twice is harmless). */
export interface HostLock {
  /** False when the wait ran out and the caller went on without the lock (best effort). */
  readonly held: boolean;
  /** Another invocation held the lock first: whatever the caller read before may be stale. */
  readonly waited: boolean;
  release: () => Promise<void>;
}

/**
 * Serialises this host's IPAM invocations, as Calico's flock on `ipam_lock_file` does, with a
 * bounded wait. The lock is a Linux abstract unix socket named after the lock path: the kernel
 * frees it when the holder dies, even by SIGKILL, so a crashed plugin never leaves a stale lock and
 * no file is written. Abstract names are per network namespace, which is per host for a CNI plugin
 * (it runs in the host namespace).
 *
 * Waiters do not poll: each connects to the holder's socket and sleeps until the holder closes it
 * on release (or dies), then tries again. A burst of 100 waiters polling every few milliseconds
 * would otherwise starve the holder of CPU on a small node.
 *
 * When the wait runs out the caller goes on without the lock, as upstream does: every datastore
 * write is compare-and-swap anyway; the lock only spares retries.
 */
export async function acquireHostLock(
  lockPath: string,
  options: { waitMs: number },
): Promise<HostLock> {
  const name = lockName(lockPath);
  const deadline = Date.now() + options.waitMs;
  for (let waited = false; ; waited = true) {
    const server = await tryListen(name);
    if (server !== undefined) return holding(server, waited);
    const left = deadline - Date.now();
    if (left <= 0) return { held: false, waited, release: () => Promise.resolve() };
    await waitForRelease(name, left);
  }
}

/**
 * True when another invocation holds the lock right now (its socket accepts a connection). A
 * hint, not a lock: by the time the caller acts it may have changed.
 */
export function hostLockBusy(lockPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(lockName(lockPath));
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** The abstract socket name (leading NUL) of a lock path. */
function lockName(lockPath: string): string {
  return `\0calico-ipam-lock:${lockPath}`;
}

function holding(server: Server, waited: boolean): HostLock {
  const waiters = new Set<Socket>();
  server.on('connection', (socket) => {
    waiters.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => waiters.delete(socket));
  });
  server.unref();
  let released = false;
  return {
    held: true,
    waited,
    release: () => {
      if (released) return Promise.resolve();
      released = true;
      return new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
        // Waking the waiters is what hands the lock on: one of them will bind next.
        for (const socket of waiters) socket.destroy();
      });
    },
  };
}

function tryListen(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(undefined);
      else reject(err);
    });
    server.listen(name, () => {
      resolve(server);
    });
  });
}

// Resolves when the holder lets go (its socket closes), when connecting fails (it just let go), or
// after `ms`.
function waitForRelease(name: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(name);
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, ms);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('end', done);
  });
}
