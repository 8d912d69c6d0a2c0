import { getPriority, setPriority } from 'node:os';

// A priority ceiling for the host lock's critical section. On a node whose CPUs are saturated (a
// burst of pod starts) every moment the lock holder needs the CPU waits its turn behind dozens of
// starting plugins, and each waiter's wait grows by the whole chain before it. So the holder's
// thread runs a few nice levels higher while it holds the lock. Linux niceness is per thread and
// a fork inherits the forking thread's, so every fork (iproute2, sysctl, a delegated plugin) goes
// through forkAtBasePriority: nothing this process starts runs above the priority the runtime
// gave it, and nothing outlives the boost with it. Best effort: without CAP_SYS_NICE nothing
// changes.

/** How many nice levels the raised thread rises (within the kernel's -20). */
export const RAISED_BY = 10;

/** While raised: the niceness found (to go back to) and the one raised to. */
let raisedFrom: { base: number; raised: number } | undefined;

/**
 * Raises the calling thread's priority by RAISED_BY; returns the undo, which restores the niceness
 * it found (calling it twice is harmless). Nested raises do nothing: the first one's undo rules.
 */
export function raiseThreadPriority(): () => void {
  if (raisedFrom !== undefined) return () => undefined;
  let base: number;
  let raised: number;
  try {
    base = getPriority();
    raised = Math.max(-20, base - RAISED_BY);
    if (raised === base) return () => undefined;
    setPriority(raised);
  } catch {
    // EACCES/EPERM without CAP_SYS_NICE: the caller runs as before, only not raised.
    return () => undefined;
  }
  const state = { base, raised };
  raisedFrom = state;
  return () => {
    if (raisedFrom !== state) return;
    raisedFrom = undefined;
    // Lowering one's own priority needs no capability.
    trySetting(base);
  };
}

/**
 * Runs `fork` (a synchronous child_process.spawn) at the thread's base priority, so the child
 * inherits that and not a raised one; the raise is back once `fork` returns.
 */
export function forkAtBasePriority<T>(fork: () => T): T {
  const state = raisedFrom;
  if (state === undefined) return fork();
  trySetting(state.base);
  try {
    return fork();
  } finally {
    // Raising back needs CAP_SYS_NICE, which the raise had; failing, the thread stays at base.
    if (!trySetting(state.raised)) raisedFrom = undefined;
  }
}

/** Whether the thread's niceness is now `niceness`. */
function trySetting(niceness: number): boolean {
  try {
    setPriority(niceness);
    return true;
  } catch {
    return false;
  }
}
