import { getPriority, setPriority } from 'node:os';

// The host lock serialises IPAM on a node, so on a node whose CPUs are saturated (a burst of pod
// starts) every holder's critical section stretches each waiter's wait: the holder needs the CPU
// only for moments (two etcd answers and a commit), but at the same niceness as a hundred other
// runnable processes every one of those moments waits for its turn. The holder's thread therefore
// runs at a higher priority while it holds the lock, a priority ceiling for the critical section,
// and drops back on release. Best effort: without CAP_SYS_NICE nothing changes.

/** How many nice levels the holder's thread rises (within the kernel's -20). */
export const LOCK_HOLDER_BOOST = 10;

/**
 * Raises the calling thread's priority (Linux: niceness is per thread) by LOCK_HOLDER_BOOST;
 * returns the undo, which restores the niceness it found. A failure to raise changes nothing.
 */
export function raiseLockHolderPriority(): () => void {
  let before: number;
  try {
    before = getPriority();
    setPriority(Math.max(-20, before - LOCK_HOLDER_BOOST));
  } catch {
    // EACCES/EPERM without CAP_SYS_NICE: the lock works the same, only not raised.
    return () => undefined;
  }
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    try {
      setPriority(before);
    } catch {
      // Lowering one's own priority never needs a capability; nothing to do if it fails.
    }
  };
}
