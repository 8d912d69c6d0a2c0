import type { SideHooks, SideValues } from '../../ipam/block-store';
import { assignForAttachment, ipamCheck, ipamDel, ipamGc, ipamStatus } from '../../ipam/cni-ipam';
import { EtcdBlockStore } from '../../ipam/etcd-block-store';
import type { ClusterArgs, CmdArgs } from '../../lib/cni/dispatcher';
import { delegateAdd, delegateCommand } from '../../lib/cni/delegate';
import type { Result } from '../../lib/cni/result/types';
import { CAS_CONFLICT, withCasRetry } from '../../lib/datastore/cas-retry';
import type { Kv } from '../../lib/datastore/kv';

/** The IPAM plugin named by `ipam.type`, run in-process or by exec; same contract either way. */
export interface IpamClient {
  /**
   * The addresses, and whether the container already held them (then never release on failure).
   * The side keys (calico's endpoint) are read before anything is written and written with the
   * assignment: in-process in IPAM's own read and commit, by exec just before and after it.
   */
  add: (side: SideHooks) => Promise<{ result: Result; existing: boolean }>;
  /** Releases the addresses; the side writes (the endpoint's deletion) go with the release. */
  release: (side?: SideHooks) => Promise<void>;
  check: () => Promise<void>;
}

/** calico-ipam runs in this process; any other type is exec'd from CNI_PATH (cni-contract.md §5). */
export function ipamClient(
  args: CmdArgs,
  options: { ipamType: string; kv: Kv; node: string },
): IpamClient {
  if (options.ipamType === 'calico-ipam') {
    const shared = { kv: options.kv, node: options.node };
    return {
      add: (side) => assignForAttachment(args, { ...shared, side }),
      release: (side) => ipamDel(args, { ...shared, ...(side === undefined ? {} : { side }) }),
      check: () => ipamCheck(args, shared),
    };
  }
  const delegate = delegateOptions(args);
  const store = new EtcdBlockStore(options.kv);
  const readSide = async (side: SideHooks): Promise<SideValues> =>
    (await store.readHandles([], { side: side.reads })).side;
  // The delegate keeps its own state: the side writes follow it in their own compare-and-swap,
  // read again after a lost compare.
  const writeSide = (side: SideHooks, first: SideValues, addresses: string[]): Promise<void> =>
    withCasRetry(
      async (round) => {
        const values = round === 0 ? first : await readSide(side);
        const writes = side.writes?.(values, addresses) ?? [];
        if (writes.length === 0) return undefined;
        const done = await store.commit(writes.map((w) => ({ kind: 'side' as const, ...w })));
        return done ? undefined : CAS_CONFLICT;
      },
      { what: `endpoint write for ${args.containerId}` },
    );
  return {
    add: async (side) => {
      const values = await readSide(side);
      side.admit?.(values);
      await side.gate;
      const cniVersion = args.netConf.cniVersion;
      const result = await delegateAdd(options.ipamType, { ...delegate, cniVersion });
      try {
        await writeSide(
          side,
          values,
          result.ips.map((ip) => ip.address),
        );
      } catch (err) {
        await delegateCommand(options.ipamType, 'DEL', delegate).catch(() => undefined);
        throw err;
      }
      return { result, existing: false };
    },
    release: async (side) => {
      const values = side === undefined ? undefined : await readSide(side);
      if (side !== undefined && values !== undefined) side.admit?.(values);
      await side?.gate;
      await delegateCommand(options.ipamType, 'DEL', delegate);
      if (side !== undefined && values !== undefined) await writeSide(side, values, []);
    },
    check: () => delegateCommand(options.ipamType, 'CHECK', delegate),
  };
}

/** GC and STATUS, forwarded to the IPAM plugin as spec 1.1 requires. */
export function forwardToIpam(
  args: ClusterArgs,
  options: { ipamType: string; command: 'GC' | 'STATUS' },
): Promise<void> {
  if (options.ipamType === 'calico-ipam') {
    return options.command === 'GC' ? ipamGc(args) : ipamStatus(args);
  }
  return delegateCommand(options.ipamType, options.command, delegateOptions(args));
}

// Upstream prepends IgnoreUnknown=1 to the IPAM plugin's CNI_ARGS so that an IPAM plugin that
// parses strictly (host-local) accepts the Kubernetes keys CRI runtimes send.
function delegateOptions(args: ClusterArgs): {
  env: Record<string, string | undefined>;
  stdin: Buffer;
  path: string[];
} {
  const cniArgs = args.env.CNI_ARGS ?? '';
  const env = {
    ...args.env,
    CNI_ARGS:
      /(^|;)IgnoreUnknown=/.test(cniArgs) || cniArgs === ''
        ? cniArgs
        : `IgnoreUnknown=1;${cniArgs}`,
  };
  return { env, stdin: args.stdin, path: args.path };
}
