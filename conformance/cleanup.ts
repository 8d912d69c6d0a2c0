import { killLiveChildren } from './exec-plugin';

const tasks = new Set<() => void>();
let installed = false;

/** Exit status for a fatal signal, as a shell reports it. */
const SIGNAL_EXIT = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;

/** Run every registered task once: kill running plugins first so namespaces can go. */
function runAll(): void {
  killLiveChildren();
  for (const task of [...tasks]) {
    tasks.delete(task);
    try {
      task();
    } catch {
      // Best effort: the other tasks still run.
    }
  }
}

/**
 * Turn SIGINT/SIGTERM/SIGHUP into running every registered task and exiting, which also runs the
 * process's `exit` listeners (startEtcd kills its etcd in one). Idempotent; onCleanup calls it.
 */
export function catchSignals(): void {
  if (installed) return;
  installed = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      runAll();
      process.stderr.write(`conformance: interrupted by ${sig}; namespaces and files removed\n`);
      process.exit(SIGNAL_EXIT[sig]);
    });
  }
  process.on('exit', runAll);
}

/**
 * Register a synchronous cleanup that runs on SIGINT/SIGTERM/SIGHUP and at process exit unless
 * unregistered first (by calling the returned function) after a normal cleanup.
 */
export function onCleanup(task: () => void): () => void {
  catchSignals();
  tasks.add(task);
  return () => tasks.delete(task);
}
