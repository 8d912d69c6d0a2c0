import { createServer, type Server } from 'node:net';

/** A held host lock; release it exactly once (releasing twice is harmless). */
export interface HostLock {
  /** False when the wait ran out and the caller went on without the lock (best effort). */
  readonly held: boolean;
  release: () => Promise<void>;
}

/**
 * Serialises this host's IPAM invocations, as Calico's flock on `ipam_lock_file` does, with a
 * bounded wait. The lock is a Linux abstract unix socket named after the lock path: the kernel
 * frees it when the holder dies, even by SIGKILL, so a crashed plugin never leaves a stale lock and
 * no file is written. Abstract names are per network namespace, which is per host for a CNI plugin
 * (it runs in the host namespace). When the wait runs out the caller goes on without the lock, as
 * upstream does: every datastore write is compare-and-swap anyway; the lock only spares retries.
 */
export async function acquireHostLock(
  lockPath: string,
  options: { waitMs: number; pollMs?: number },
): Promise<HostLock> {
  const name = `\0calico-ipam-lock:${lockPath}`;
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const server = await tryListen(name);
    if (server !== undefined) {
      server.unref();
      let released = false;
      return {
        held: true,
        release: () => {
          if (released) return Promise.resolve();
          released = true;
          return new Promise((resolve) =>
            server.close(() => {
              resolve();
            }),
          );
        },
      };
    }
    if (Date.now() >= deadline) return { held: false, release: () => Promise.resolve() };
    // Jitter keeps many waiters from polling in lockstep.
    const poll = options.pollMs ?? 10;
    await new Promise((resolve) => setTimeout(resolve, poll / 2 + Math.random() * poll));
  }
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
