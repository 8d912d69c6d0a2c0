import { CniError, ErrorCode } from '../cni/errors';

/** Returned by an attempt whose compare-and-swap lost: read again and recompute. */
export const CAS_CONFLICT = Symbol('cas-conflict');

/** Bounds of the retry loop: attempts, and the jittered exponential backoff between them. */
export interface CasRetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** What the work is, for the error when every attempt lost (e.g. `assign for handle n.c1`). */
  what: string;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/**
 * The one compare-and-swap retry loop (DESIGN.md): runs `attempt` until it returns something
 * other than CAS_CONFLICT, sleeping a jittered, growing delay between tries so that racing
 * writers spread out. Only conflicts are retried; every other error surfaces at once (calico
 * design/ipam invariant). Exhaustion is code 11: the runtime should try again later.
 */
export async function withCasRetry<T>(
  attempt: (round: number) => Promise<T | typeof CAS_CONFLICT>,
  options: CasRetryOptions,
): Promise<T> {
  const attempts = options.attempts ?? 100;
  const base = options.baseDelayMs ?? 2;
  const max = options.maxDelayMs ?? 100;
  const sleep = options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  for (let round = 0; round < attempts; round++) {
    const outcome = await attempt(round);
    if (outcome !== CAS_CONFLICT) return outcome;
    // Full jitter: uniform in [0, min(max, base·2^round)].
    await sleep(random() * Math.min(max, base * 2 ** round));
  }
  throw new CniError(
    ErrorCode.tryAgainLater,
    `Max retries hit - excessive concurrent IPAM requests: ${options.what} lost ${attempts} compare-and-swap rounds`,
  );
}
