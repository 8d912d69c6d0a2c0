/**
 * A random version-4 UUID for `metadata.uid`, as Calico's client fills it on create. Math.random
 * is enough (a uid must be unique, not unguessable), and webcrypto would load a dozen modules into
 * every pod start just for this.
 */
export function newUid(): string {
  const hex = Array.from({ length: 4 }, () =>
    Math.floor(Math.random() * 2 ** 32)
      .toString(16)
      .padStart(8, '0'),
  ).join('');
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
