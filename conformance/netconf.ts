import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { hostLocalAllocations, type Allocation } from './allocations';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup';

/** A network configuration as written to a plugin's stdin. */
export type NetConf = Record<string, unknown>;

/** Whether the binary under test is a main plugin or an IPAM plugin. */
export type PluginKind = 'main' | 'ipam';

/** The one address of the default range: a second ADD succeeds only if the first was released. */
export const ONLY_ADDRESS = '10.250.0.10';

/** Scratch directories of one harness run, removed at the end. */
export class TempArea {
  readonly root = mkdtempSync(join(tmpdir(), 'cnf-'));
  #next = 0;
  readonly #unregister = onCleanup(() => {
    this.dispose();
  });

  /** A new empty directory whose name starts with `prefix`. */
  dir(prefix: string): string {
    const path = join(this.root, `${prefix}-${String(this.#next++)}`);
    mkdirSync(path, { recursive: true });
    return path;
  }

  /** Remove everything. */
  dispose(): void {
    this.#unregister();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** The second, wider IPv4 range of the harness's own configs (items that need many addresses). */
export const WIDE_SUBNET = '10.250.1.0/24';

/** The one IPv6 address of the dual-stack configs. */
export const ONLY_ADDRESS6 = 'fd00:250::10';

/**
 * Config variants for items the one-address default cannot serve: `wide` hands out at least 64
 * IPv4 addresses; `dual` one IPv4 (ONLY_ADDRESS) and one IPv6 (ONLY_ADDRESS6) address per ADD.
 */
export type ConfVariant = 'wide' | 'dual';

/** Where the configs of a run come from. */
export interface ConfSource {
  /**
   * True when the IPAM state behind the configs belongs to this run and holds exactly one address,
   * ONLY_ADDRESS: GC may run on it (nothing else can lose an address), and a second ADD proves that
   * a DEL released the address. False for a user's `--netconf`, whose store may be shared.
   */
  readonly harnessOwned: boolean;
  /**
   * A config for one item at `version` (undefined: no `cniVersion` key). The host-local default
   * gets a fresh dataDir each call, so items do not share IPAM state.
   */
  make(version: string | undefined): NetConf;
  /**
   * Called before each item: puts shared IPAM state back to its initial content (the etcd source,
   * whose one address all items share). Absent when every config carries fresh state.
   */
  reset?(): Promise<void>;
  /** A config of `variant` at `version`; absent for a user's file (those items are n/a). */
  variant?(variant: ConfVariant, version: string): Promise<NetConf>;
  /**
   * The addresses allocated now in the IPAM state behind `conf` (only this run's state, so a
   * leftover is this plugin's). Absent when the state is not the harness's to look at.
   */
  allocations?(conf: NetConf): Promise<Allocation[]>;
}

/** Set or remove `cniVersion` on a copy of `base`. */
export function withVersion(base: NetConf, version: string | undefined): NetConf {
  const conf = structuredClone(base);
  if (version === undefined) delete conf.cniVersion;
  else conf.cniVersion = version;
  return conf;
}

/** The harness's default config for `kind`, with host-local IPAM in a private dataDir. */
export function defaultConfSource(opts: {
  readonly kind: PluginKind;
  readonly pluginName: string;
  readonly tmp: TempArea;
}): ConfSource {
  const one = [{ subnet: '10.250.0.0/24', rangeStart: ONLY_ADDRESS, rangeEnd: ONLY_ADDRESS }];
  const one6 = [{ subnet: 'fd00:250::/64', rangeStart: ONLY_ADDRESS6, rangeEnd: ONLY_ADDRESS6 }];
  const build = (version: string | undefined, ranges: unknown[], routes: unknown[]): NetConf =>
    withVersion(
      {
        cniVersion: version,
        name: 'cnf-net',
        type: opts.kind === 'main' ? opts.pluginName : 'ptp',
        ipam: {
          type: opts.kind === 'main' ? 'host-local' : opts.pluginName,
          ranges,
          routes,
          dataDir: opts.tmp.dir('ipam-data'),
        },
      },
      version,
    );
  const v4default = { dst: '0.0.0.0/0' };
  return {
    harnessOwned: true,
    make: (version) => build(version, [one], [v4default]),
    variant: (variant, version) =>
      Promise.resolve(
        variant === 'wide'
          ? build(version, [[{ subnet: WIDE_SUBNET }]], [v4default])
          : build(version, [one, one6], [v4default, { dst: '::/0' }]),
      ),
    allocations: (conf) => Promise.resolve(hostLocalAllocations(conf)),
  };
}

/** Configs based on a user's file; only `cniVersion` changes per item. */
export function fileConfSource(base: NetConf): ConfSource {
  return { harnessOwned: false, make: (version) => withVersion(base, version) };
}

/** `ipam.type` of `conf`, if it is a string. */
export function ipamTypeOf(conf: NetConf): string | undefined {
  const ipam = conf.ipam;
  if (typeof ipam !== 'object' || ipam === null) return undefined;
  const type = (ipam as Record<string, unknown>).type;
  return typeof type === 'string' ? type : undefined;
}

/** A copy of `conf` with `ipam.type` replaced (the ipam object is created if absent). */
export function withIpamType(conf: NetConf, type: string): NetConf {
  const copy = structuredClone(conf);
  const ipam = typeof copy.ipam === 'object' && copy.ipam !== null ? copy.ipam : {};
  copy.ipam = { ...ipam, type };
  return copy;
}

/** `value` re-serialised as libcni does: keys sorted at every level, no whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
