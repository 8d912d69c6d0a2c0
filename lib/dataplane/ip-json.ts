// Just the fields of iproute2's `-j` output that the dataplane reads; anything else is ignored.

/** A link from `ip -j link show` / `ip -j addr show`. */
export interface IpLink {
  ifname: string;
  flags: string[];
  address: string | undefined;
  addresses: { local: string; prefixlen: number }[];
}

/** A route from `ip -j route show`. */
export interface IpRoute {
  dst: string;
  dev: string | undefined;
  gateway: string | undefined;
  scope: string | undefined;
  type: string | undefined;
  /** Absent from iproute2's output for the main table. */
  table: string | undefined;
}

function records(line: string | undefined): Record<string, unknown>[] {
  if (line === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return [];
  }
  return Array.isArray(parsed)
    ? parsed.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null)
    : [];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Links in one JSON line of `ip -j link show` or `ip -j addr show`. */
export function parseLinks(line: string | undefined): IpLink[] {
  return records(line).flatMap((r) => {
    const ifname = str(r.ifname);
    if (ifname === undefined) return [];
    const flags = Array.isArray(r.flags) ? r.flags.filter((f) => typeof f === 'string') : [];
    const info = Array.isArray(r.addr_info) ? (r.addr_info as unknown[]) : [];
    const addresses = info.flatMap((a) => {
      if (typeof a !== 'object' || a === null) return [];
      const { local, prefixlen } = a as Record<string, unknown>;
      return typeof local === 'string' && typeof prefixlen === 'number'
        ? [{ local, prefixlen }]
        : [];
    });
    return [{ ifname, flags, address: str(r.address), addresses }];
  });
}

/** Routes in one JSON line of `ip -j route show`. */
export function parseRoutes(line: string | undefined): IpRoute[] {
  return records(line).flatMap((r) => {
    const dst = str(r.dst);
    if (dst === undefined) return [];
    return [
      {
        dst,
        dev: str(r.dev),
        gateway: str(r.gateway),
        scope: str(r.scope),
        type: str(r.type),
        table: str(r.table),
      },
    ];
  });
}

/** A route as iproute2 would print it, for messages. */
export function describeRoute(r: IpRoute): string {
  return [
    r.type !== undefined && r.type !== 'unicast' ? r.type : '',
    r.dst,
    r.gateway === undefined ? '' : `via ${r.gateway}`,
    r.dev === undefined ? '' : `dev ${r.dev}`,
    r.scope === undefined ? '' : `scope ${r.scope}`,
    r.table === undefined ? '' : `table ${r.table}`,
  ]
    .filter((p) => p !== '')
    .join(' ');
}
