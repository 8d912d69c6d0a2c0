// FNV-1a, 32-bit (offset basis 2166136261, prime 16777619), over the UTF-8 bytes of the text.
// Calico seeds its block walk with FNV-1 of the hostname (§8.2, Go's fnv.New32) and then draws
// the start from Go's math/rand, which we do not reproduce; so the variant is ours to choose, and
// FNV-1a spreads a change in the last byte (node-1, node-2, …) over more bits than FNV-1.

const OFFSET_BASIS = 0x811c9dc5;
const PRIME = 0x01000193;
const utf8 = new TextEncoder();

/** The 32-bit FNV-1a hash of the UTF-8 encoding of `text`, as an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = OFFSET_BASIS;
  for (const byte of utf8.encode(text)) {
    hash = Math.imul(hash ^ byte, PRIME) >>> 0;
  }
  return hash;
}
