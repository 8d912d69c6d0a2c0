import { formatCidr, networkOf, tryParseIp } from './core';
import { DEFAULT_MAX_BLOCKS_PER_HOST } from './find-room';

/** Calico's default IPv4 block size, which most pools keep (calico-behaviour.md §7.3). */
const DEFAULT_IPV4_BLOCK_PREFIX = 26;

/**
 * The blocks an ADD on this node will most likely look at, guessed from the addresses of the pods
 * the node already runs: their /26 networks, each once, at most as many as a host may own by
 * default. A guess only decides which block keys ride in IPAM's first read; a pool with another
 * block size just makes it miss (and the blocks are read in a round trip of their own, as without
 * hints). A node with no pods yet has nothing to guess from.
 */
export function blockHints(podAddresses: readonly string[]): string[] {
  const hints = new Set<string>();
  for (const text of podAddresses) {
    const ip = tryParseIp(text);
    if (ip?.family !== 4) continue;
    hints.add(formatCidr(networkOf(ip, DEFAULT_IPV4_BLOCK_PREFIX)));
    if (hints.size === DEFAULT_MAX_BLOCKS_PER_HOST) break;
  }
  return [...hints];
}

/**
 * The blocks to read first: those the previous holder of the host lock handed over (every block
 * affine to this node as it left them), else the caller's guess. The guess is not even made when
 * blocks were handed over: calico's comes from the host routes, which cost more to read the more
 * pods the node runs, and in a burst every ADD but the first has a predecessor.
 */
export function firstReadBlocks(
  handedOver: readonly string[],
  guess: (() => readonly string[]) | undefined,
): readonly string[] {
  return handedOver.length > 0 ? handedOver : (guess?.() ?? []);
}
