import type { PluginHandlers } from '../../lib/cni/dispatcher';
import { CniError, ErrorCode } from '../../lib/cni/errors';
import type { NetConf } from '../../lib/cni/netconf';
import { notImplemented } from '../not-implemented';

/** The main plugin needs an IPAM plugin to get addresses from (checklist B31: code 7). */
export function requireIpamType(netConf: NetConf): string {
  if (netConf.ipamType === undefined) {
    throw new CniError(
      ErrorCode.invalidNetworkConfig,
      'invalid network config: ipam.type is required',
    );
  }
  return netConf.ipamType;
}

/** calico's verbs. Input is validated exactly as it will be once networking lands. */
export const calicoHandlers: PluginHandlers = {
  add: ({ netConf }) => {
    requireIpamType(netConf);
    return notImplemented('calico', 'ADD');
  },
  del: ({ netConf }) => {
    requireIpamType(netConf);
    return notImplemented('calico', 'DEL');
  },
  check: ({ netConf }) => {
    requireIpamType(netConf);
    return notImplemented('calico', 'CHECK');
  },
  gc: () => notImplemented('calico', 'GC'),
  status: () => notImplemented('calico', 'STATUS'),
};
