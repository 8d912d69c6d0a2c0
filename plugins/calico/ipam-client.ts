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
  // The delegate keeps its own state, so the side keys cannot ride in its commit: they are read
  // and admitted before it runs (after the gate), and written after it in their own
  // compare-and-swap. A failed write undoes the delegate's work.
  const aroundDelegate = async <T>(
    side: SideHooks | undefined,
    step: {
      run: () => Promise<T>;
      addresses: (outcome: T) => string[];
      undo?: () => Promise<void>;
    },
  ): Promise<T> => {
    if (side === undefined) return step.run();
    const first = await readSide(side);
    side.admit?.(first);
    await side.gate;
    const outcome = await step.run();
    const addresses = step.addresses(outcome);
    try {
      await withCasRetry(
        async (round) => {
          // A lost compare reads and admits again, as an in-process attempt would.
          const values = round === 0 ? first : await readSide(side);
          if (round > 0) side.admit?.(values);
          const writes = side.writes?.(values, addresses) ?? [];
          if (writes.length === 0) return undefined;
          const done = await store.commit(writes.map((w) => ({ kind: 'side' as const, ...w })));
          return done === undefined ? CAS_CONFLICT : undefined;
        },
        { what: `endpoint write for ${args.containerId}` },
      );
    } catch (err) {
      await step.undo?.().catch(() => undefined);
      throw err;
    }
    return outcome;
  };
  const release = (): Promise<void> => delegateCommand(options.ipamType, 'DEL', delegate);
  return {
    add: async (side) => {
      const cniVersion = args.netConf.cniVersion;
      const result = await aroundDelegate(side, {
        run: () => delegateAdd(options.ipamType, { ...delegate, cniVersion }),
        addresses: (r) => r.ips.map((ip) => ip.address),
        undo: release,
      });
      return { result, existing: false };
    },
    release: (side) => aroundDelegate(side, { run: release, addresses: () => [] }),
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
