import { HandleCountError, OutOfRangeError } from './errors';

// A handle (§7.5) counts, per block CIDR, how many addresses one owner holds there. The
// allocator increments it before the block write and decrements it after a release (§8.1); these
// helpers do the arithmetic and leave the CAS writes to the caller.

/** The handle value `{"block":{"<block cidr>":<count>}}`; other fields (`deleted`) in `extra`. */
export interface HandleState {
  readonly block: Readonly<Record<string, number>>;
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** Result of a decrement: write the new value, or delete the handle key (empty map, §8.1). */
export type HandleChange =
  { readonly kind: 'update'; readonly handle: HandleState } | { readonly kind: 'delete' };

/** Options of the handle arithmetic; `handleId` only makes messages name the handle. */
export interface HandleCountOptions {
  /** Addresses to add or remove (positive integer, default 1). */
  readonly count?: number;
  readonly handleId?: string;
}

function countOf(options: HandleCountOptions): number {
  const count = options.count ?? 1;
  if (!Number.isInteger(count) || count < 1) {
    throw new OutOfRangeError(`handle count change ${count} must be a positive integer`);
  }
  return count;
}

function held(handle: HandleState, blockCidr: string): number | undefined {
  return Object.hasOwn(handle.block, blockCidr) ? handle.block[blockCidr] : undefined;
}

/** Adds `count` addresses in `blockCidr`; `null` means the handle does not exist yet (create). */
export function incrementHandle(
  handle: HandleState | null,
  blockCidr: string,
  options: HandleCountOptions = {},
): HandleState {
  const count = countOf(options);
  const base = handle ?? { block: {} };
  return { ...base, block: { ...base.block, [blockCidr]: (held(base, blockCidr) ?? 0) + count } };
}

/**
 * Removes `count` addresses in `blockCidr`. Errors when the handle holds nothing there or fewer
 * than `count` (upstream refuses both, §8.1). A block that reaches zero leaves the map.
 */
export function decrementHandle(
  handle: HandleState,
  blockCidr: string,
  options: HandleCountOptions = {},
): HandleChange {
  const count = countOf(options);
  const name = options.handleId === undefined ? 'handle' : `handle ${options.handleId}`;
  const current = held(handle, blockCidr);
  if (current === undefined) {
    throw new HandleCountError(`${name} holds no addresses in block ${blockCidr}`);
  }
  if (current < count) {
    throw new HandleCountError(
      `cannot release ${count} addresses of ${name} in block ${blockCidr}: it holds ${current}`,
    );
  }
  const left = current - count;
  const entries = Object.entries(handle.block).flatMap(([cidr, n]): [string, number][] => {
    if (cidr !== blockCidr) return [[cidr, n]];
    return left > 0 ? [[cidr, left]] : [];
  });
  if (entries.length === 0) return { kind: 'delete' };
  return { kind: 'update', handle: { ...handle, block: Object.fromEntries(entries) } };
}

/** Total addresses the handle holds over all blocks. */
export function handleTotal(handle: HandleState): number {
  return Object.values(handle.block).reduce((sum, n) => sum + n, 0);
}

/** The interface a pod's network attachment gets unless the runtime asks for another. */
export const DEFAULT_IFNAME = 'eth0';

/**
 * The handle of one attachment. For the pod's default interface it is Calico's own
 * `<network>.<CNI_CONTAINERID>` (§8.1), so that pods stay interchangeable with upstream Calico.
 * Any other interface gets `<network>.<CNI_CONTAINERID>.<CNI_IFNAME>`: the CNI spec keys an
 * attachment by (network, container, ifname), and upstream's handle would give two interfaces of
 * one container on one network the same address, then release it with the first DEL (checklist
 * H80).
 */
export function cniHandleId(
  networkName: string,
  containerId: string,
  ifName = DEFAULT_IFNAME,
): string {
  const base = `${networkName}.${containerId}`;
  return ifName === DEFAULT_IFNAME ? base : `${base}.${ifName}`;
}

/** Cuts a handle ID at the first `\r`, as upstream does for IDs left by a buggy migration (§8.1). */
export function normaliseHandleId(handleId: string): string {
  const cut = handleId.indexOf('\r');
  return cut < 0 ? handleId : handleId.slice(0, cut);
}
