// calico#2098 / #2902 / #5201: upstream's etcd client waits for ever when etcd is unreachable, so
// the runtime kills the plugin. Every call here is bounded three ways: a dial timeout and a
// deadline for each attempt on one endpoint (so that the next endpoint still gets a chance when
// one is dead or hangs), and one budget for the whole invocation that all calls of a client share.

/** The three bounds, in milliseconds. */
export interface Timeouts {
  /** TCP connect (and TLS handshake) to one endpoint. */
  dialMs: number;
  /** One attempt of a request on one endpoint, from sending to the last byte of the answer. */
  requestMs: number;
  /** Everything one client does, from its first call. */
  budgetMs: number;
}

/**
 * Defaults: a whole ADD or DEL must fit well inside kubelet's and containerd's own timeouts, and an
 * outage must be reported (code 11) fast enough for the runtime's retry to matter. A 2 s attempt
 * still rides out an etcd leader election (about 1 s with etcd's default election timeout).
 */
export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = {
  dialMs: 1_000,
  requestMs: 2_000,
  budgetMs: 5_000,
};

/** A monotonic millisecond clock (wall-clock jumps must not stretch or cut the budget). */
export type Clock = () => number;

// process.hrtime, not performance.now(): the latter loads perf_hooks (~1 ms) in every plugin start.
const monotonic: Clock = () => Number(process.hrtime.bigint()) / 1e6;

/**
 * The time left for one client, started by its first use: a client made before the host's IPAM
 * lock is taken (calico opens one per invocation) does not spend its budget queueing for the lock
 * ("lock then clock", calico PR #11824); the lock wait has its own bound.
 */
export class Budget {
  private end: number | undefined;

  constructor(
    readonly timeouts: Timeouts,
    private readonly clock: Clock = monotonic,
  ) {}

  /** Milliseconds left of the whole budget (never negative); the first call starts it. */
  remaining(): number {
    this.end ??= this.clock() + this.timeouts.budgetMs;
    return Math.max(0, this.end - this.clock());
  }

  /** Milliseconds one attempt may take from now: min(per-attempt, remaining budget). */
  requestWindow(): number {
    return Math.min(this.timeouts.requestMs, this.remaining());
  }

  /** Milliseconds one connect may take from now, within `windowEnd` (a clock reading). */
  dialWindow(windowEnd: number): number {
    return Math.max(0, Math.min(this.timeouts.dialMs, windowEnd - this.clock()));
  }

  /** The current clock reading, for computing window ends. */
  now(): number {
    return this.clock();
  }

  /** Why a request cannot start or did not finish, for error messages. */
  describeExhausted(): string {
    return this.remaining() === 0
      ? `time budget of ${formatSeconds(this.timeouts.budgetMs)} for this invocation exhausted`
      : `no answer within ${formatSeconds(this.timeouts.requestMs)}`;
  }
}

/** `1.5 s`, `10 s`. */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
