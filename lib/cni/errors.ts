/**
 * The one error type of the CNI contract. The dispatcher prints it on stdout and exits 1; codes
 * 1–99 keep their spec meaning (cni-contract.md §6), 100+ are ours (table below).
 */
export class CniError extends Error {
  override readonly name = 'CniError';

  constructor(
    readonly code: number,
    msg: string,
    readonly details?: string,
  ) {
    super(msg);
  }
}

/** Well-known codes from the spec and libcni, and Calico's own codes (≥ 100). */
export const ErrorCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodingFailure: 6,
  invalidNetworkConfig: 7,
  /**
   * libcni's ErrInvalidNetNS (not in the spec): CNI_NETNS is the plugin's own namespace; we also use
   * it for a path that is missing or is not a network namespace.
   */
  invalidNetns: 8,
  tryAgainLater: 11,
  statusUnavailable: 50,
  statusLimitedConnectivity: 51,
  /** Calico's `-t` datastore connection test failed (same code as upstream). */
  datastoreConnectionFailed: 100,
  // 101 was "not implemented yet" while the verbs were landing; the conformance harness still
  // treats it as such for plugins under development.
  /** A delegated plugin failed without printing a CNI error object, or could not be run. */
  delegateFailed: 102,
  /** No usable pool has a free address for this node (names the pools). */
  poolsExhausted: 110,
  /** A requested IP (CNI_ARGS IP=) lies in no enabled pool. */
  addressNotInPool: 111,
  /** A requested IP is already assigned, or reserved. */
  addressInUse: 112,
  /** `ipv4_pools`/`ipv6_pools` name a pool that does not exist or is disabled. */
  unknownPool: 113,
  /** No enabled pool selects this node. */
  noPoolForNode: 114,
  /** A block held by a requested IP's pool is affine to another node under strict affinity. */
  blockAffinityMismatch: 115,
  /** CHECK found no allocation for the container. */
  allocationMissing: 116,
  /** The datastore holds a value we cannot read (names the key and field). */
  corruptDatastore: 117,
  /** CNI_IFNAME already exists inside the container's netns (spec 1.0: ADD must fail). */
  interfaceExists: 120,
  /** The host route for a pod address is on another interface: the symptom of a duplicate IP. */
  hostRouteConflict: 121,
  /** An iproute2 or sysctl step failed (names the command and its stderr). */
  dataplaneFailed: 122,
  /** The netconf asks for something this build does not support (policy k8s, kubernetes datastore). */
  unsupportedConfig: 123,
  /** CHECK found the container's networking different from what ADD set up. */
  checkFailed: 124,
  /** libcni's ErrInternal: anything that is not a CniError. */
  internal: 999,
} as const;

/** The JSON error object printed on stdout (cni-contract.md §6). */
export interface ErrorObject {
  cniVersion?: string;
  code: number;
  msg: string;
  details?: string;
}

/** Maps anything thrown to a CniError; non-CNI errors become code 999 with their message. */
export function toCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  if (err instanceof Error) return new CniError(ErrorCode.internal, err.message);
  return new CniError(ErrorCode.internal, String(err));
}

/** The wire form of an error, with `cniVersion` when the config's version is known. */
export function toErrorObject(err: CniError, cniVersion?: string): ErrorObject {
  return {
    ...(cniVersion === undefined ? {} : { cniVersion }),
    code: err.code,
    msg: err.message,
    ...(err.details === undefined || err.details === '' ? {} : { details: err.details }),
  };
}
