import { assignForAttachment, ipamCheck, ipamDel, ipamGc, ipamStatus } from '../../ipam/cni-ipam';
import type { ClusterArgs, CmdArgs } from '../../lib/cni/dispatcher';
import { delegateAdd, delegateCommand } from '../../lib/cni/delegate';
import type { Result } from '../../lib/cni/result/types';
import type { Kv } from '../../lib/datastore/kv';

/** The IPAM plugin named by `ipam.type`, run in-process or by exec; same contract either way. */
export interface IpamClient {
  /**
   * The addresses, and whether the container already held them (then never release on failure).
   * Nothing is written unless `gate` resolves: in-process, the IPAM reads overlap it.
   */
  add: (gate: Promise<unknown>) => Promise<{ result: Result; existing: boolean }>;
  release: () => Promise<void>;
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
      add: (gate) => assignForAttachment(args, { ...shared, gate }),
      release: () => ipamDel(args, shared),
      check: () => ipamCheck(args, shared),
    };
  }
  const delegate = delegateOptions(args);
  return {
    add: async (gate) => {
      await gate;
      const cniVersion = args.netConf.cniVersion;
      return {
        result: await delegateAdd(options.ipamType, { ...delegate, cniVersion }),
        existing: false,
      };
    },
    release: () => delegateCommand(options.ipamType, 'DEL', delegate),
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
