import { CniError, ErrorCode } from '../cni/errors';

/**
 * What went wrong talking to etcd. The first three are answers callers handle (Calico's
 * resource-does-not-exist, update conflict, resource-already-exists); `Unavailable` means etcd
 * could not be reached in time (retrying later may help); `Failed` means etcd answered with an
 * error, or the server is not an etcd we can talk to.
 */
export type DatastoreErrorKind =
  'NotFound' | 'Conflict' | 'AlreadyExists' | 'Unavailable' | 'Failed';

/** A typed datastore failure; messages never contain stored values. */
export class DatastoreError extends Error {
  override readonly name = 'DatastoreError';

  /**
   * Unavailable only: the client's time budget is used up, so every later call fails at once
   * (callers that would wait and retry stop instead).
   */
  budgetSpent = false;

  constructor(
    readonly kind: DatastoreErrorKind,
    message: string,
    /** The key concerned, when there is one. */
    readonly key?: string,
  ) {
    super(message);
  }
}

/** True when `err` is a DatastoreError, of `kind` when given. */
export function isDatastoreError(err: unknown, kind?: DatastoreErrorKind): err is DatastoreError {
  return err instanceof DatastoreError && (kind === undefined || err.kind === kind);
}

/** The key does not exist (Calico: `resource does not exist`). */
export function notFound(key: string): DatastoreError {
  return new DatastoreError('NotFound', `resource does not exist: ${key}`, key);
}

/** A create found the key already there (Calico: `resource already exists`). */
export function alreadyExists(key: string): DatastoreError {
  return new DatastoreError('AlreadyExists', `resource already exists: ${key}`, key);
}

/** A compare-and-swap lost: the key changed since `expected` was read. */
export function conflict(
  key: string,
  revisions: { expected: number; actual: number },
): DatastoreError {
  const { expected, actual } = revisions;
  return new DatastoreError(
    'Conflict',
    `update conflict: ${key} is at revision ${actual}, expected ${expected}`,
    key,
  );
}

/** etcd could not be reached, or did not answer in time. */
export function unavailable(
  endpoints: readonly string[],
  reason: string,
  options: { budgetSpent?: boolean } = {},
): DatastoreError {
  const err = new DatastoreError(
    'Unavailable',
    `etcd unreachable at ${endpoints.join(', ')}: ${reason}`,
  );
  err.budgetSpent = options.budgetSpent ?? false;
  return err;
}

/**
 * Maps a datastore error that escaped its caller to the CNI error the plugin prints: only
 * `Unavailable` is worth retrying (code 11, "try again later"); everything else is Calico's
 * generic 999 with the message. Other errors pass through `toCniError` unchanged.
 */
export function datastoreErrorToCni(err: unknown): CniError {
  if (err instanceof CniError) return err;
  if (err instanceof DatastoreError) {
    const code = err.kind === 'Unavailable' ? ErrorCode.tryAgainLater : ErrorCode.internal;
    return new CniError(code, err.message);
  }
  if (err instanceof Error) return new CniError(ErrorCode.internal, err.message);
  return new CniError(ErrorCode.internal, String(err));
}
