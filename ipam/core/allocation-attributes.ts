// Secondary attributes the CNI writes on each allocation (§7.4): `node` and `timestamp` always,
// `namespace` and `pod` for Kubernetes. The clock is the caller's: the time comes in as UnixNano.

/** Attribute keys written by the CNI plugin (upstream's IPAMBlockAttribute* names). */
export const ATTRIBUTE_KEYS = {
  node: 'node',
  timestamp: 'timestamp',
  namespace: 'namespace',
  pod: 'pod',
} as const;

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/**
 * Go's `time.Time.String()` of a UTC time, as upstream stores `timestamp`:
 * `2024-01-02 03:04:05.123456789 +0000 UTC`, trailing fraction zeros dropped, no fraction if zero.
 */
export function goUtcTimeString(unixNanos: bigint): string {
  const seconds = unixNanos / 1_000_000_000n - (unixNanos % 1_000_000_000n < 0n ? 1n : 0n);
  const nanos = Number(unixNanos - seconds * 1_000_000_000n);
  const d = new Date(Number(seconds) * 1000);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
  const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  const fraction = nanos === 0 ? '' : `.${pad(nanos, 9).replace(/0+$/, '')}`;
  return `${date} ${time}${fraction} +0000 UTC`;
}

/** The secondary attributes of a workload allocation; pod and namespace only when known. */
export function workloadAttributes(options: {
  node: string;
  unixNanos: bigint;
  namespace?: string;
  pod?: string;
}): Record<string, string> {
  const attributes: Record<string, string> = {
    [ATTRIBUTE_KEYS.node]: options.node,
    [ATTRIBUTE_KEYS.timestamp]: goUtcTimeString(options.unixNanos),
  };
  if (options.namespace !== undefined) attributes[ATTRIBUTE_KEYS.namespace] = options.namespace;
  if (options.pod !== undefined) attributes[ATTRIBUTE_KEYS.pod] = options.pod;
  return attributes;
}

// Go's time.Time.String(): date, time, optional fraction, numeric offset, zone abbreviation, and
// (for a time read from the monotonic clock) a trailing ` m=+…`.
const GO_TIME =
  /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,9}))? ([+-])(\d\d)(\d\d) \S+(?: m=.*)?$/;

/**
 * The Unix time in milliseconds of a `timestamp` attribute as upstream writes it (the inverse of
 * goUtcTimeString, any offset), in whole milliseconds; undefined when the text is not one.
 */
export function parseGoTimeString(text: string): number | undefined {
  const match = GO_TIME.exec(text);
  if (match === null) return undefined;
  const [, date, time, fraction, sign, hours, minutes] = match;
  const base = Date.parse(`${date ?? ''}T${time ?? ''}Z`);
  if (Number.isNaN(base)) return undefined;
  const offsetMs = (Number(hours) * 60 + Number(minutes)) * 60_000 * (sign === '-' ? -1 : 1);
  const fractionMs = fraction === undefined ? 0 : Number(`${fraction}00`.slice(0, 3));
  return base + fractionMs - offsetMs;
}
