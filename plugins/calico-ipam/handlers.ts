import type { PluginHandlers } from '../../lib/cni/dispatcher';
import { ipamAdd, ipamCheck, ipamDel, ipamGc, ipamStatus } from '../../ipam/cni-ipam';

/** calico-ipam's verbs: Calico block IPAM on etcd. */
export const calicoIpamHandlers: PluginHandlers = {
  add: ipamAdd,
  del: ipamDel,
  check: ipamCheck,
  gc: ipamGc,
  status: ipamStatus,
};
