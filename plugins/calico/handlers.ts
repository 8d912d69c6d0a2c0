import type { ClusterArgs, PluginHandlers } from '../../lib/cni/dispatcher';
import { calicoAdd } from './add';
import { calicoCheck } from './check';
import { requireIpamType } from './context';
import { calicoDel } from './del';
import { forwardToIpam } from './ipam-client';

/** calico's verbs; GC and STATUS belong to its IPAM plugin (spec 1.1 forwarding). */
export const calicoHandlers: PluginHandlers = {
  add: calicoAdd,
  del: calicoDel,
  check: calicoCheck,
  gc: (args: ClusterArgs) =>
    forwardToIpam(args, { ipamType: requireIpamType(args.netConf), command: 'GC' }),
  status: (args: ClusterArgs) =>
    forwardToIpam(args, { ipamType: requireIpamType(args.netConf), command: 'STATUS' }),
};
