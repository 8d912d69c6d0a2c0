import { CAS_CONFLICT } from '../lib/datastore/cas-retry';
import { isDatastoreError } from '../lib/datastore/errors';

/** Pause between reads while etcd is away after a commit of unknown outcome. */
const REREAD_PAUSE_MS = 100;

/**
 * A commit whose connection failed after the request was sent (an etcd leader killed, a member
 * stopped mid-request) may or may not have been applied. Answering code 11 then could leave an
 * allocation behind for an ADD that reported failure, or keep one a DEL reported as not released.
 * So the attempt is treated like a lost compare-and-swap: read again and recompute. A
 * linearizable read after a new leader took over shows the commit either applied or gone for good,
 * and the recomputed commit's compares make a late application of the first one harmless. While
 * etcd stays away, the read is retried until the client's time budget is spent.
 */
export class UnsureCommits {
  /** True once a commit of this operation may have been applied without our knowing. */
  unknown = false;

  /** Runs a commit; CAS_CONFLICT when it lost or its outcome is unknown. */
  async commit(run: () => Promise<boolean>): Promise<true | typeof CAS_CONFLICT> {
    try {
      return (await run()) ? true : CAS_CONFLICT;
    } catch (err) {
      if (!isDatastoreError(err, 'Unavailable')) throw err;
      this.unknown = true;
      return CAS_CONFLICT;
    }
  }

  /** Runs a read; after an unknown commit, an unreachable etcd is waited for within the budget. */
  async read<T>(read: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await read();
      } catch (err) {
        // budgetSpent ends the wait: from then on every call of the client fails at once.
        if (!this.unknown || !isDatastoreError(err, 'Unavailable') || err.budgetSpent) throw err;
        await new Promise((resolve) => setTimeout(resolve, REREAD_PAUSE_MS));
      }
    }
  }
}
